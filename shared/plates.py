"""Chinese licence plates: validation, normalisation, conservative fuzzy matching and masking.

A plate is a province character, a letter, then 5 characters (blue/yellow/white/black plates) or 6
(green new-energy plates). Cameras misread confusable characters (0/O/D, 8/B, 1/I, 2/Z, 5/S) and
sometimes drop the province character, so matching an exit to its entry must tolerate exactly those
errors and nothing looser: a wrong match bills the wrong citizen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Serial characters: letters and digits (I and O stay allowed: they are exactly what misreads produce),
# plus the special last characters of coach, police, trailer, HK/Macau and consular plates.
_SERIAL = "A-Z0-9"
_SPECIAL_LAST = "挂学警港澳领使"
_PLATE_RE = re.compile(
    rf"^(?P<province>[{PROVINCES}])?(?P<letter>[A-Z])(?P<serial>[{_SERIAL}]{{4,5}}[{_SERIAL}{_SPECIAL_LAST}]|[{_SERIAL}]{{6}})$"
)

# Each confusable group collapses to one representative; only these pairs are tolerated.
_CONFUSABLE = {"O": "0", "D": "0", "B": "8", "I": "1", "Z": "2", "S": "5"}


class PlateColour(str, Enum):
    BLUE = "blue"
    YELLOW = "yellow"
    GREEN = "green"  # new-energy small vehicles
    YELLOW_GREEN = "yellow_green"  # new-energy large vehicles
    WHITE = "white"
    BLACK = "black"


@dataclass(frozen=True)
class Plate:
    """A validated plate as read. ``partial`` means the province character was not read."""

    text: str

    @property
    def partial(self) -> bool:
        return is_partial(self.text)

    @property
    def without_province(self) -> str:
        return self.text[1:] if not self.partial else self.text

    @property
    def new_energy(self) -> bool:
        return len(self.without_province) == 7


def is_partial(text: str) -> bool:
    """``Plate(text).partial`` without building the plate."""
    return text[0] not in PROVINCES


class MalformedPlate(ValueError):
    pass


def normalise(raw: str) -> str:
    """Upper-case, drop spaces, dots and middle dots that OCR and people insert (苏B·12345)."""
    return re.sub(r"[\s.·•\-]", "", raw).upper()


def parse(raw: str) -> Plate:
    text = normalise(raw)
    if not _PLATE_RE.match(text):
        raise MalformedPlate(f"not a Chinese plate: {mask(text)!r}")
    return Plate(text)


def skeleton(text: str) -> str:
    """The plate with each confusable character replaced by its group representative."""
    return text.translate(_SKELETON)  # one C pass (a fuzzy match asks for two per candidate plate)


_SKELETON = str.maketrans(_CONFUSABLE)


class MatchKind(str, Enum):
    EXACT = "exact"
    FUZZY = "fuzzy"


def fuzzy_equal(a: Plate, b: Plate) -> bool:
    """True when the two reads can be the same plate under the tolerated misreads.

    Conservative: same length once a missing province is allowed for, identical province when both were
    read, and character-by-character equal up to the confusable groups.
    """
    return _same_plate(_fuzzy_key(a.text), _fuzzy_key(b.text))


def _fuzzy_key(text: str) -> tuple[str | None, str]:
    """(province or None when not read, skeleton of the rest): what ``fuzzy_equal`` compares."""
    if text[0] in PROVINCES:
        return text[0], text[1:].translate(_SKELETON)
    return None, text.translate(_SKELETON)


def _same_plate(a: tuple[str | None, str], b: tuple[str | None, str]) -> bool:
    return a[1] == b[1] and (a[0] is None or b[0] is None or a[0] == b[0])


def best_match(read: Plate, candidates: list[Plate]) -> tuple[Plate, MatchKind] | None:
    """Exact first; then a fuzzy match only if exactly one candidate qualifies (ambiguity is no match)."""
    for c in candidates:
        if c.text == read.text:
            return c, MatchKind.EXACT
    key = _fuzzy_key(read.text)  # once, not once per candidate (exits without their entry try every open car)
    fuzzy = [c for c in candidates if _same_plate(key, _fuzzy_key(c.text))]
    if len(fuzzy) == 1:
        return fuzzy[0], MatchKind.FUZZY
    return None


def mask(text: str | None) -> str:
    """Plates are personal data: keep the province and city letter and the last character only."""
    if not text:
        return ""
    if len(text) <= 3:
        return "*" * len(text)
    return text[:2] + "*" * (len(text) - 3) + text[-1]
