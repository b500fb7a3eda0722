"""The C2SP tlog-tiles layout: where hashes and entries live, and how an append extends them. Pure.

A tile at level L holds up to 256 hashes of the complete subtrees of height 8·L (level 0: leaf hashes);
``tile/<L>/<N>`` when full, ``tile/<L>/<N>.p/<W>`` while partial (W hashes). Entry bundles hold the
entries themselves, each a big-endian uint16 length then the bytes: ``tile/entries/<N>[.p/<W>]``.
Only the last tile of each level is ever partial, and the root and every append need only those, so an
appender reads at most one tile per level (``edge``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.audit import merkle

WIDTH = 256
HEIGHT = 8


def index_path(n: int) -> str:
    """``1234067`` -> ``x001/x234/067`` (groups of three digits, all but the last prefixed ``x``)."""
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    return "/".join([f"x{g}" for g in reversed(groups[1:])] + [groups[0]])


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{index_path(index)}{suffix}"


def entries_path(index: int, width: int = WIDTH) -> str:
    return tile_path("entries", index, width)


def level_count(size: int, level: int) -> int:
    """How many hashes level ``level`` holds in a tree of ``size`` leaves."""
    return size >> (HEIGHT * level)


def levels(size: int) -> int:
    n = 0
    while level_count(size, n) > 0:
        n += 1
    return n


def last_tile(size: int, level: int) -> tuple[int, int] | None:
    """(index, width) of the partial last tile of a level, None if the level ends on a full tile."""
    count = level_count(size, level)
    return (count // WIDTH, count % WIDTH) if count % WIDTH else None


def split_hashes(body: bytes) -> list[bytes]:
    if len(body) % merkle.HASH_SIZE:
        raise ValueError("a hash tile's length is not a multiple of 32")
    return [body[i : i + merkle.HASH_SIZE] for i in range(0, len(body), merkle.HASH_SIZE)]


def bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for e in entries:
        if len(e) > 0xFFFF:
            raise ValueError("an entry is longer than 65535 bytes")
        out += struct.pack(">H", len(e)) + e
    return bytes(out)


def unbundle(body: bytes) -> list[bytes]:
    entries, i = [], 0
    while i < len(body):
        if i + 2 > len(body):
            raise ValueError("truncated entry bundle")
        (n,) = struct.unpack_from(">H", body, i)
        if i + 2 + n > len(body):
            raise ValueError("truncated entry bundle")
        entries.append(body[i + 2 : i + 2 + n])
        i += 2 + n
    return entries


def edge_paths(size: int) -> dict[tuple[int | str, int], str]:
    """The partial tiles an appender must read at ``size``: one per level, plus the entry bundle."""
    paths: dict[tuple[int | str, int], str] = {}
    for level in range(levels(size)):
        if (t := last_tile(size, level)) is not None:
            paths[(level, t[0])] = tile_path(level, *t)
    if size % WIDTH:
        paths[("entries", size // WIDTH)] = entries_path(size // WIDTH, size % WIDTH)
    return paths


@dataclass
class Extension:
    size: int
    root: bytes
    tiles: dict[str, bytes]  # path -> body, every tile touched (full ones and the new partial ones)


class _Levels:
    """The hashes of the edge tiles plus what the append adds, addressed by (level, position)."""

    def __init__(self, edge: dict[tuple[int | str, int], list[bytes]]) -> None:
        self.cells: dict[tuple[int | str, int], bytes] = {}
        for (level, index), values in edge.items():
            for i, v in enumerate(values):
                self.cells[(level, index * WIDTH + i)] = v

    def node(self, height: int, index: int) -> bytes:
        level, rest = divmod(height, HEIGHT)
        if rest == 0:
            return self.cells[(level, index)]
        return merkle.node_hash(self.node(height - 1, 2 * index), self.node(height - 1, 2 * index + 1))


def extend(size: int, edge: dict[tuple[int | str, int], list[bytes]], entries: Sequence[bytes]) -> Extension:
    """Append ``entries`` to a tree of ``size`` whose edge tiles are ``edge`` (hashes; for the key
    ``("entries", n)`` the entries of the partial bundle). Returns the new root and the tiles to write."""
    cells = _Levels(edge)
    new_size = size + len(entries)
    for i, e in enumerate(entries):
        cells.cells[(0, size + i)] = merkle.leaf_hash(e)
        cells.cells[("entries", size + i)] = e
    level = 1
    while level_count(new_size, level) > level_count(size, level) or level < levels(new_size):
        for index in range(level_count(size, level), level_count(new_size, level)):
            below = HEIGHT * level - 1
            cells.cells[(level, index)] = merkle.node_hash(
                cells.node(below, 2 * index), cells.node(below, 2 * index + 1)
            )
        level += 1
    tiles: dict[str, bytes] = {}
    for lvl in [*range(levels(new_size)), "entries"]:
        count_old = size if lvl == "entries" else level_count(size, lvl)
        count_new = new_size if lvl == "entries" else level_count(new_size, lvl)
        for index in range(count_old // WIDTH, (count_new - 1) // WIDTH + 1 if count_new else 0):
            lo, hi = index * WIDTH, min((index + 1) * WIDTH, count_new)
            if hi <= count_old:
                continue
            values = [cells.cells[(lvl, p)] for p in range(lo, hi)]
            body = bundle(values) if lvl == "entries" else b"".join(values)
            path = entries_path(index, hi - lo) if lvl == "entries" else tile_path(lvl, index, hi - lo)
            tiles[path] = body
    return Extension(new_size, merkle.root(new_size, cells.node), tiles)


def tile_nodes(size: int, read: Callable[[str], bytes]) -> merkle.Nodes:
    """``Nodes`` over stored tiles of a tree of ``size`` (for proofs), reading each tile once."""
    cache: dict[tuple[int, int], list[bytes]] = {}

    def hashes(level: int, index: int) -> list[bytes]:
        if (level, index) not in cache:
            width = min(WIDTH, level_count(size, level) - index * WIDTH)
            cache[(level, index)] = split_hashes(read(tile_path(level, index, width)))
        return cache[(level, index)]

    def nodes(height: int, index: int) -> bytes:
        level, rest = divmod(height, HEIGHT)
        if rest == 0:
            return hashes(level, index // WIDTH)[index % WIDTH]
        return merkle.node_hash(nodes(height - 1, 2 * index), nodes(height - 1, 2 * index + 1))

    return nodes
