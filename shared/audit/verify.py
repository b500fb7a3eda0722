"""What an auditor checks, given only the archive bucket's objects and the log's public key.

1. The checkpoint's signature (C2SP signed note) and its tree: the entry bundles' leaves hash to its root.
2. The hash tiles agree with the entries (so inclusion proofs served from them are sound).
3. Every archived record is a leaf, each object's records a contiguous run in the object's own order,
   and the log holds nothing that is not archived: an altered byte, a removed record or two swapped
   records all fail here (or in 1, if the log itself was doctored).
4. Optionally, that this checkpoint extends an earlier one (consistency proof from the tiles).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shared.audit import merkle, tiles
from shared.audit.log import CHECKPOINT, records_of
from shared.audit.note import Checkpoint, NoteError, Verifier, open_checkpoint

Read = Callable[[str], bytes | None]


@dataclass
class Verification:
    checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def entries(size: int, read: Read, prefix: str = "log/") -> Iterable[bytes]:
    for index in range((size + tiles.WIDTH - 1) // tiles.WIDTH):
        width = min(tiles.WIDTH, size - index * tiles.WIDTH)
        body = read(prefix + tiles.entries_path(index, width))
        if body is None:
            raise FileNotFoundError(prefix + tiles.entries_path(index, width))
        yield from tiles.unbundle(body)


def verify_log(read: Read, verifier: Verifier, prefix: str = "log/") -> Verification:
    """Steps 1 and 2."""
    out = Verification()
    signed = read(prefix + CHECKPOINT)
    if signed is None:
        out.problems.append("no checkpoint")
        return out
    try:
        cp = out.checkpoint = open_checkpoint(signed.decode(), verifier, verifier.name)
    except NoteError as exc:
        out.problems.append(f"checkpoint: {exc}")
        return out
    try:  # one pass, O(log n) memory: the log's size does not matter
        size, root = merkle.streamed_root(merkle.leaf_hash(e) for e in entries(cp.size, read, prefix))
    except (FileNotFoundError, ValueError) as exc:
        out.problems.append(f"entry bundles: {exc}")
        return out
    if size != cp.size:
        out.problems.append(f"entry bundles hold {size} entries, the checkpoint {cp.size}")
        return out
    if root != cp.root:
        out.problems.append("the entries do not hash to the checkpoint's root (altered, removed or reordered)")
    try:
        stored = merkle.root(cp.size, tiles.tile_nodes(cp.size, lambda p: read(prefix + p) or b""))
        if stored != cp.root:
            out.problems.append("the hash tiles do not hash to the checkpoint's root")
    except (IndexError, ValueError) as exc:
        out.problems.append(f"hash tiles: {exc}")
    return out


def verify_archive(read: Read, keys: Iterable[str], verifier: Verifier, prefix: str = "log/") -> Verification:
    """Steps 1-3: the log, then every archive object in ``keys`` against it.

    An archive that matches its log is proved in two streaming passes (``_matches``), holding one hash per
    archive object, not per record. Only when it does not match is the exact diagnosis run (``_diagnose``:
    a map of every leaf's position, memory in proportion to the log) to name each altered, missing or
    reordered record."""
    out = verify_log(read, verifier, prefix)
    if not out.ok:
        return out
    keys = list(keys)
    seen = _matches(read, keys, out.checkpoint.size, prefix)
    if seen is not None:
        out.records = seen
        return out
    return _diagnose(read, keys, out, prefix)


def _matches(read: Read, keys: list[str], size: int, prefix: str) -> int | None:
    """The number of records if the log is exactly the archive objects' records, each object a contiguous
    run in its own order and no record outside an object; None at the first thing that does not fit."""
    first: dict[bytes, tuple[str, int]] = {}  # an object's first leaf hash -> (key, records)
    total = 0
    for key in keys:
        lines = records_of(read(key) or b"")
        if lines:
            h = merkle.leaf_hash(lines[0])
            if h in first:
                return None
            first[h] = (key, len(lines))
            total += len(lines)
    if total != size:
        return None
    pending: list[bytes] = []  # the rest of the current object's records, reversed
    for entry in entries(size, read, prefix):
        if not pending:
            found = first.pop(merkle.leaf_hash(entry), None)
            if found is None:
                return None
            pending = records_of(read(found[0]) or b"")
            if len(pending) != found[1]:
                return None  # the object changed between the passes
            pending.reverse()
        if pending.pop() != entry:  # the same bytes: the same leaf
            return None
    return total if not first and not pending else None


def _diagnose(read: Read, keys: list[str], out: Verification, prefix: str) -> Verification:
    position: dict[bytes, int] = {}
    for i, e in enumerate(entries(out.checkpoint.size, read, prefix)):
        position.setdefault(merkle.leaf_hash(e), i)
    seen = 0
    for key in keys:
        body = read(key) or b""
        lines = records_of(body)
        at = [position.get(merkle.leaf_hash(line)) for line in lines]
        for n, (line, i) in enumerate(zip(lines, at, strict=True)):
            if i is None:
                out.problems.append(f"{key} record {n + 1} is not in the log (altered, or archived after it)")
        found = [i for i in at if i is not None]
        if found and found != list(range(found[0], found[0] + len(found))):
            out.problems.append(f"{key}: its records are not in the log's order (reordered)")
        seen += len(lines)
    out.records = seen
    if seen < out.checkpoint.size:
        out.problems.append(f"the log holds {out.checkpoint.size} records, the archive {seen} (records removed)")
    return out


def verify_extends(read: Read, older: Checkpoint, newer: Checkpoint, prefix: str = "log/") -> None:
    """Step 4: ``newer`` extends ``older`` (ProofError otherwise)."""
    nodes = tiles.tile_nodes(newer.size, lambda p: read(prefix + p) or b"")
    proof = merkle.consistency_proof(older.size, newer.size, nodes)
    merkle.verify_consistency(older.size, newer.size, older.root, newer.root, proof)
