"""The tlog-tiles layout (paths, incremental appends equal a one-shot build) and signed-note checkpoints
(known-answer vectors of Go's sumdb/note and of c2sp.org/signed-note)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from shared.audit import merkle, note, tiles

NOTES = json.loads((Path(__file__).parent / "vectors" / "signed_note.json").read_text())["notes"]


def test_paths_follow_the_tlog_tiles_spec():
    assert tiles.index_path(1234067) == "x001/x234/067"
    assert tiles.index_path(5) == "005"
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path(1, 3, 17) == "tile/1/003.p/17"
    assert tiles.entries_path(0, 9) == "tile/entries/000.p/9"


def test_bundles_round_trip():
    entries = [b"", b"a", b"x" * 300]
    assert tiles.unbundle(tiles.bundle(entries)) == entries
    with pytest.raises(ValueError):
        tiles.unbundle(tiles.bundle(entries)[:-1])


def _grow(batches):
    store: dict[str, bytes] = {}
    size = 0
    for batch in batches:
        edge = {}
        for (level, index), path in tiles.edge_paths(size).items():
            body = store[path]
            edge[(level, index)] = tiles.unbundle(body) if level == "entries" else tiles.split_hashes(body)
        ext = tiles.extend(size, edge, batch)
        store.update(ext.tiles)
        size = ext.size
        yield size, ext.root, store


def test_appending_in_random_batches_gives_the_rfc_root_and_provable_tiles():
    rng = random.Random(7)
    entries = [b"event %d" % i for i in range(70_000 // 100)] * 100  # 70,000 leaves: three tile levels
    entries = [e + b"#%d" % i for i, e in enumerate(entries)]
    batches, i = [], 0
    while i < len(entries):
        n = rng.choice([1, 3, 255, 256, 257, 5000])
        batches.append(entries[i : i + n])
        i += n
    hashes = [merkle.leaf_hash(e) for e in entries]
    checked = 0
    for size, root, store in _grow(batches):
        if checked < 6 or size == len(entries):
            assert root == merkle.root(size, merkle.list_nodes(hashes[:size]))
            nodes = tiles.tile_nodes(size, store.__getitem__)
            for index in {0, size // 2, size - 1}:
                merkle.verify_inclusion(index, size, hashes[index], merkle.inclusion_proof(index, size, nodes), root)
            checked += 1
    assert tiles.levels(len(entries)) == 3
    assert "tile/2/000.p/1" in store and "tile/entries/x273/x437/" not in store


@pytest.mark.parametrize("vector", NOTES, ids=lambda v: v["verifier_key"].split("+")[0])
def test_signed_note_vectors(vector):
    verifier = note.Verifier.from_key(vector["verifier_key"])
    assert note.open_note(vector["signed"], verifier) == vector["text"]
    if vector["signer_key"]:
        signer = note.Signer.from_key(vector["signer_key"])
        assert signer.verifier_key() == vector["verifier_key"]
        assert signer.sign(vector["text"]) == vector["signed"]  # Ed25519 is deterministic
    tampered = vector["signed"].replace("answer", "Answer").replace("example message", "example massage")
    with pytest.raises(note.NoteError):
        note.open_note(tampered, verifier)


def test_checkpoint_round_trip_and_wrong_key():
    signer, other = note.Signer.generate("tongting.example/log"), note.Signer.generate("tongting.example/log")
    cp = note.Checkpoint("tongting.example/log", 42, bytes(range(32)))
    signed = signer.sign(cp.text())
    assert note.open_checkpoint(signed, note.Verifier.from_key(signer.verifier_key()), cp.origin) == cp
    with pytest.raises(note.NoteError):
        note.open_checkpoint(signed, note.Verifier.from_key(other.verifier_key()))
