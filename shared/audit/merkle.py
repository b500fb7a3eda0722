"""RFC 6962 / RFC 9162 Merkle tree hashing with inclusion and consistency proofs. Pure: no I/O.

Leaf hash ``SHA-256(0x00 || entry)``, interior node ``SHA-256(0x01 || left || right)``. Proof generation
works over a ``Nodes`` function giving the hash of a complete subtree (``height``, ``index``), so it runs
as well over a list of leaf hashes as over stored tiles. Verification follows RFC 9162 §2.1.3.2 and
§2.1.4.2 and is checked against transparency-dev/merkle's published vectors (tests/audit/vectors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Nodes = Callable[[int, int], bytes]  # (height, index) -> hash of the complete subtree of 2**height leaves


class ProofError(ValueError):
    """A proof does not verify (or cannot exist for these sizes)."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    h = _NODE.copy()  # a copy of the prefix's state: cheaper than setting up a new OpenSSL hasher for 65 bytes
    h.update(left)
    h.update(right)
    return h.digest()


_NODE = hashlib.sha256(b"\x01")  # RFC 6962's prefix of an interior node


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(start: int, end: int, nodes: Nodes) -> bytes:
    """MTH of leaves [start, end) where ``start`` is aligned as in the RFC's recursion."""
    n = end - start
    if n <= 0:
        raise ValueError("empty range")
    if n & (n - 1) == 0 and start % n == 0:
        return nodes(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(range_hash(start, start + k, nodes), range_hash(start + k, end, nodes))


def root(size: int, nodes: Nodes) -> bytes:
    return EMPTY_ROOT if size == 0 else range_hash(0, size, nodes)


def streamed_root(leaf_hashes: Iterable[bytes]) -> tuple[int, bytes]:
    """(size, MTH) of leaf hashes given in order, holding only the O(log n) complete subtrees on the right
    edge (the auditor's pass over a log of any size; ``tests/audit/test_verify_streams.py`` checks it equals
    ``root`` over ``list_nodes``)."""
    edge: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
    size = 0
    for h in leaf_hashes:
        size += 1
        height = 0
        while edge and edge[-1][0] == height:
            h = node_hash(edge.pop()[1], h)
            height += 1
        edge.append((height, h))
    if not edge:
        return 0, EMPTY_ROOT
    top = edge[-1][1]
    for _, left in reversed(edge[:-1]):  # RFC 6962: the smaller subtrees on the right fold first
        top = node_hash(left, top)
    return size, top


def list_nodes(leaf_hashes: Sequence[bytes]) -> Nodes:
    """``Nodes`` over an in-memory list of leaf hashes (tests, small trees), memoised."""
    memo: dict[tuple[int, int], bytes] = {}

    def nodes(height: int, index: int) -> bytes:
        if height == 0:
            return leaf_hashes[index]
        key = (height, index)
        if key not in memo:
            memo[key] = node_hash(nodes(height - 1, 2 * index), nodes(height - 1, 2 * index + 1))
        return memo[key]

    return nodes


def inclusion_proof(index: int, size: int, nodes: Nodes) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of {size}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(range_hash(start + k, end, nodes))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, nodes))
            start += k
    return proof[::-1]


def consistency_proof(size1: int, size2: int, nodes: Nodes) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from {size1} to {size2}")

    def sub(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [range_hash(start, end, nodes)]
        k = _split(n)
        if m <= k:
            return sub(m, start, start + k, whole) + [range_hash(start + k, end, nodes)]
        return sub(m - k, start + k, end, False) + [range_hash(start, start + k, nodes)]

    return sub(size1, 0, size2, True)


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless ``leaf`` is at ``index`` of the tree with ``root_hash``."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != HASH_SIZE or sn == 0:
            raise ProofError("proof has the wrong shape")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root_hash:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the tree ``root2`` extends the tree ``root1``."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency from {size1} to {size2}")
    if size1 == size2:
        if proof or root1 != root2:
            raise ProofError("equal sizes need an empty proof and equal roots")
        return
    if any(len(p) != HASH_SIZE for p in proof) or not proof:
        raise ProofError("proof has the wrong shape")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != root1 or sr != root2:
        raise ProofError("consistency proof does not lead to both roots")
