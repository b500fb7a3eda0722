"""RFC 9162 hashing and proofs, checked against transparency-dev/merkle's published vectors and against
proofs generated here for every (index, size) of small trees."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from shared.audit import merkle

VECTORS = json.loads((Path(__file__).parent / "vectors" / "transparency_dev_merkle.json").read_text())
# The RFC 6962 reference tree's leaf inputs (Trillian testonly), whose roots the vectors above use.
RFC_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                          "606162636465666768696a6b6c6d6e6f")]  # fmt: skip


def b64(value):
    return base64.b64decode(value)


def proof_of(case):
    return [b64(p) for p in case["proof"] or []]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: c["file"])
def test_inclusion_vectors(case):
    args = (case["leafIdx"], case["treeSize"], b64(case["leafHash"]), proof_of(case), b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: c["file"])
def test_consistency_vectors(case):
    args = (case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), proof_of(case))
    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_our_roots_and_proofs_equal_the_published_ones():
    hashes = [merkle.leaf_hash(x) for x in RFC_LEAVES]
    roots = {c["treeSize"]: b64(c["root"]) for c in VECTORS["inclusion"]}
    for size, want in roots.items():
        assert merkle.root(size, merkle.list_nodes(hashes[:size])) == want
    for c in VECTORS["inclusion"]:
        if not c["wantErr"]:
            nodes = merkle.list_nodes(hashes[: c["treeSize"]])
            assert merkle.inclusion_proof(c["leafIdx"], c["treeSize"], nodes) == proof_of(c)
            assert hashes[c["leafIdx"]] == b64(c["leafHash"])
    for c in VECTORS["consistency"]:
        if not c["wantErr"]:
            nodes = merkle.list_nodes(hashes[: c["size2"]])
            assert merkle.consistency_proof(c["size1"], c["size2"], nodes) == proof_of(c)


def test_every_generated_proof_verifies_and_a_flipped_bit_does_not():
    hashes = [merkle.leaf_hash(b"leaf %d" % i) for i in range(40)]
    for size in range(1, 41):
        nodes = merkle.list_nodes(hashes[:size])
        top = merkle.root(size, nodes)
        for i in range(size):
            proof = merkle.inclusion_proof(i, size, nodes)
            merkle.verify_inclusion(i, size, hashes[i], proof, top)
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(i, size, hashes[(i + 1) % 40], proof, top)
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(old, size, nodes)
            old_root = merkle.root(old, merkle.list_nodes(hashes[:old]))
            merkle.verify_consistency(old, size, old_root, top, proof)
            if proof:
                bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1])] + proof[1:]
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(old, size, old_root, top, bad)


def test_empty_tree_root_is_the_hash_of_nothing():
    assert (
        merkle.root(0, merkle.list_nodes([])).hex()
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
