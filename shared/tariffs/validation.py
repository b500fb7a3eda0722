"""Upload validation of tariffs: every rejection carries a stable code the HTTP layer returns with a 400.

The semantic checks run as model validators of ``shared.tariffs.model`` (so no invalid ``Tariff`` object
exists); they raise ``PydanticCustomError`` whose type *is* the code. ``validate_tariff`` parses an upload
and converts any failure into ``InvalidInput(code=...)``.

Codes: tariff_invalid (malformed), tariff_negative_amount, tariff_overlapping_windows,
tariff_cap_below_first_block, tariff_invalid_blocks, tariff_invalid_rule, tariff_invalid_window,
tariff_invalid_cap, tariff_calendar_conflict, tariff_versions_unordered; at quote time tariff_not_in_force.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from shared.errors import InvalidInput

if TYPE_CHECKING:
    from shared.tariffs.model import Tariff, TariffVersion

_DAY_KINDS = ("workday", "rest_day")
_MAX_REPORTED = 20


def _fail(code: str, reason: str) -> None:
    raise PydanticCustomError(code, "{reason}", {"reason": reason})


def check_versions(tariff: Tariff) -> None:
    times = [v.effective_from for v in tariff.versions]
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            _fail(
                "tariff_versions_unordered", f"version {i} is not after version {i - 1}: effective_from must increase"
            )


def check_version(version: TariffVersion) -> None:
    for i, rule in enumerate(version.rules):
        if rule.kind == "progressive":
            _check_blocks(i, rule)
        else:
            for w in rule.windows:
                if rule.min_minutes > w.length:
                    _fail(
                        "tariff_invalid_rule",
                        f"rule {i}: min_minutes {rule.min_minutes} exceeds its window {w.start}-{w.end}",
                    )
        for w in rule.windows or ():
            if len(set(w.days)) != len(w.days):
                _fail("tariff_invalid_window", f"rule {i}: window {w.start}-{w.end} repeats a day kind")
    _check_overlaps(version)
    _check_caps(version)
    clash = set(version.calendar.holidays) & set(version.calendar.workdays)
    if clash:
        _fail("tariff_calendar_conflict", f"{min(clash).isoformat()} is both a holiday and a workday")


def _check_blocks(i: int, rule: Any) -> None:
    *head, last = rule.blocks
    if last.periods is not None:
        _fail("tariff_invalid_blocks", f"rule {i}: the last block must repeat (periods null)")
    if any(b.periods is None for b in head):
        _fail("tariff_invalid_blocks", f"rule {i}: only the last block may repeat; give the others a period count")


def _check_overlaps(version: TariffVersion) -> None:
    """Two windows overlap if some minute is inside both for some run of day kinds.

    A window is at most 24 h long, so it can only meet windows starting the same day or the next: placing
    every window on day 0 and day 1, for each of the four (day 0 kind, day 1 kind) pairs, finds every overlap.
    """
    always = [i for i, r in enumerate(version.rules) if r.kind == "progressive" and r.windows is None]
    if always and len(version.rules) > 1:
        other = next(i for i in range(len(version.rules)) if i != always[0])
        _fail("tariff_overlapping_windows", f"rule {always[0]} charges at all times, so it overlaps rule {other}")
    windows = [(i, w) for i, r in enumerate(version.rules) for w in r.windows or ()]
    for kind0 in _DAY_KINDS:
        for kind1 in _DAY_KINDS:
            spans = []
            for offset, kind in ((0, kind0), (1440, kind1)):
                for i, w in windows:
                    if kind in {d.value for d in w.days}:
                        start = offset + w.start_minute
                        spans.append((start, start + w.length, i, w))
            spans.sort(key=lambda s: s[0])
            for (_, e1, i1, w1), (s2, _, i2, w2) in pairwise(spans):
                if s2 < e1:
                    _fail(
                        "tariff_overlapping_windows",
                        f"rule {i1} window {w1.start}-{w1.end} overlaps rule {i2} window {w2.start}-{w2.end} "
                        f"(a {kind0} followed by a {kind1})",
                    )


def _check_caps(version: TariffVersion) -> None:
    caps = []
    if version.cap is not None:
        caps.append(("cap", version.cap.amount_fen))
    nev_cap = version.new_energy.cap_fen if version.new_energy else None
    if nev_cap is not None:
        if version.cap is None:
            _fail("tariff_invalid_cap", "new_energy.cap_fen needs a cap (it replaces the cap amount, not its period)")
        caps.append(("new_energy cap", nev_cap))
    for i, rule in enumerate(version.rules):
        if rule.kind == "progressive":
            first = next((b.price_fen for b in rule.blocks if b.price_fen > 0), 0)
            what = "first charged block"
        else:
            first, what = rule.price_fen, "flat fee"
        for name, amount in caps:
            if amount < first:
                _fail(
                    "tariff_cap_below_first_block",
                    f"{name} {amount} fen is below the {what} of rule {i} ({first} fen)",
                )


def not_in_force(tariff_id: str, instant: datetime) -> None:
    raise InvalidInput(
        f"tariff {tariff_id} has no version in force at {instant.isoformat()}",
        code="tariff_not_in_force",
        tariff_id=tariff_id,
    )


def validate_tariff(data: Mapping[str, Any] | str | bytes) -> Tariff:
    """Parse and check an uploaded tariff (a JSON document or its parsed form); ``InvalidInput`` if bad."""
    from shared.tariffs.model import Tariff  # model imports this module for its checks

    try:
        if isinstance(data, (str, bytes)):
            return Tariff.model_validate_json(data)
        return Tariff.model_validate(data)
    except ValidationError as exc:
        raise _as_invalid(exc) from None


def _code(error: Any) -> str:
    kind = error["type"]
    if kind.startswith("tariff_"):
        return kind
    field = next((p for p in reversed(error["loc"]) if isinstance(p, str)), "")
    value = error.get("input")
    amount = field.endswith("_fen") or field == "num"
    if kind in ("greater_than_equal", "greater_than") and amount and isinstance(value, (int, float)) and value < 0:
        return "tariff_negative_amount"
    return "tariff_invalid"


def _path(loc: tuple) -> str:
    """The error's place as a dotted path, without the union tag pydantic inserts (rules.0.progressive.x)."""
    parts = [p for i, p in enumerate(loc) if not (i >= 2 and loc[i - 2] == "rules" and p in ("progressive", "flat"))]
    return ".".join(str(p) for p in parts)


def _as_invalid(exc: ValidationError) -> InvalidInput:
    problems = []
    for error in exc.errors(include_url=False):
        path = _path(error["loc"])
        problems.append({"path": path, "code": _code(error), "message": error["msg"]})
    primary = next((p for p in problems if p["code"] != "tariff_invalid"), problems[0])
    where = f"{primary['path']}: " if primary["path"] else ""
    return InvalidInput(
        f"invalid tariff: {where}{primary['message']}", code=primary["code"], errors=problems[:_MAX_REPORTED]
    )
