"""The daily fraud and data-hiding scan (S16) and the district's review of its signals.

``scan(day)`` reads, for each lot, the events accepted on that local day from the event archive (every
accepted event with its ack, the record auditors replay), the lot's sessions still open, the bills of its
paying exits and its comms outages, and stores the lot's figures and its signals
(``shared.supervision.signals``). Every write is put-if-absent, so re-running a day changes nothing and a
run that crashed half-way is completed by the retry (``tests/governance/test_signals.py``).

District staff (and city staff) review a signal once: confirmed or dismissed, with a note.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from shared import access
from shared.archive.ports import ArchiveBucket
from shared.auth import Principal, Role
from shared.clock import SHANGHAI, Clock
from shared.errors import Conflict, InvalidInput, NotFound
from shared.hotspots import model as hotspots
from shared.observability import count, logger
from shared.registry.ports import LotStore
from shared.sessions.ports import SessionStore
from shared.supervision import signals as sig
from shared.supervision.ports import AnomalyStore, SignalStore

MAX_NOTE = 1000


class SignalService:
    def __init__(self, store: SignalStore, lots: LotStore, archive: ArchiveBucket, sessions: SessionStore,
                 anomalies: AnomalyStore, bill: Callable[[str], object | None], clock: Clock) -> None:
        """``bill(session_id)``: the bill of a session (None if it has none)."""
        self._store, self._lots, self._archive, self._sessions = store, lots, archive, sessions
        self._anomalies, self._bill, self._clock = anomalies, bill, clock

    # The scheduled scan
    def scan(self, day: date | None = None) -> dict:
        now = self._clock.now()
        day = day or (now.astimezone(SHANGHAI).date() - timedelta(days=1))
        d = day.isoformat()
        day_end = datetime.combine(day + timedelta(days=1), time.min, SHANGHAI)
        by_lot = self.archived(d)
        lots = self._lots.list()
        prepared, total_exits, total_zero = [], 0, 0
        for lot in lots:
            records = by_lot.get(lot.lot_id, [])
            outages = [(a.lost_since, a.restored_at or now)
                       for a in self._anomalies.of_lot(lot.lot_id, day_end - timedelta(days=40))]
            fig = sig.figures(lot.lot_id, d, records, outages)
            prepared.append((lot, records, outages, fig))
            total_exits += fig.exits
            total_zero += fig.zero_charge + fig.manual
        found: list[str] = []
        for lot, records, outages, fig in prepared:
            history = self._store.days(lot.lot_id, d, sig.BASELINE_DAYS)
            others = total_exits - fig.exits  # the city's rate without the lot itself
            city_rate = (total_zero - fig.zero_charge - fig.manual) / others if others else None
            findings = [
                sig.occupancy_mismatch(records, lot.capacity),
                sig.zero_charge_exits(fig, history, city_rate),
                self._closed_unpaid(records),
                self._never_exited(lot, day_end),
                sig.late_reporting(fig, records, outages),
                sig.frequent_corrections(fig),
            ]
            for f in findings:
                if f is None:
                    continue
                signal = sig.Signal(signal_id=sig.signal_id(f.kind, lot.lot_id, d), kind=f.kind, lot_id=lot.lot_id,
                                    district_code=lot.district_code, operator_id=lot.operator_id, day=d,
                                    detected_at=now, explanation=f.explanation, numbers=f.numbers)
                if self._store.add(signal):
                    count(f"Signal_{f.kind}")
                    logger.warning("supervision signal", extra={"signal": signal.signal_id, "numbers": f.numbers})
                found.append(signal.signal_id)
            self._store.add_day(fig)  # last: a lot whose figures are stored was scanned whole
        # The day's utilisation and turnover by hour, and the hard-to-park hotspots (S2): from the same archived
        # events, stored with the day's compliance snapshot by the scheduled function.
        hot = hotspots.utilisation(
            [stay for lot in lots for stay in hotspots.stays_of_day(lot.lot_id, by_lot.get(lot.lot_id, []), day)],
            {lot.lot_id: (lot.district_code, lot.capacity) for lot in lots}, day)  # fmt: skip
        return {"day": d, "lots": len(lots), "signals": sorted(found), "city_zero_charge_rate":
                round(total_zero / total_exits, 4) if total_exits else None, "hotspots": hot}

    def archived(self, day: str) -> dict[str, list[sig.Record]]:
        """The day's archived events by lot (what the scan reads; stays per lot come from here, not bills)."""
        out: dict[str, list[sig.Record]] = defaultdict(list)
        for key in self._archive.keys(f"events/date={day}/"):
            for line in self._archive.get(key).decode().splitlines():
                if line:
                    rec = json.loads(line)
                    out[rec["lot_id"]].append(sig.Record.from_archive(rec))
        return out

    def _closed_unpaid(self, records: list[sig.Record]) -> sig.Finding | None:
        paying = [e for e in sig.exits_of(records) if e.decision == "pay" and e.session_id]
        unpaid = []
        for e in {e.session_id: e for e in paying}.values():
            bill = self._bill(e.session_id)
            if bill is None or bill.pay_later or bill.disputed or bill.in_arrears or bill.due_fen <= 0:
                continue
            unpaid.append((e.session_id, bill.due_fen))
        return sig.closed_unpaid(unpaid, len(paying))

    def _never_exited(self, lot, day_end: datetime) -> sig.Finding | None:
        cutoff = day_end - sig.STALE_AFTER
        stale = [(s.session_id, s.entered_at) for s in self._sessions.open_in_lot(lot.lot_id)
                 if s.entered_at is not None and s.entered_at < cutoff]
        return sig.entries_never_exited(stale, lot.capacity, day_end)

    # The district's review
    def list(self, principal: Principal, district: str | None, first: str, last: str, state: str | None = None) -> list[sig.Signal]:
        access.require_role(principal, Role.CITY_ADMIN, Role.AUDITOR, *access.DISTRICT_ROLES, what="supervision signals")
        scope = access.district_scope(principal, district)
        _day(first), _day(last)
        districts = [scope] if scope else sorted({lot.district_code for lot in self._lots.list()})
        found = [s for dc in districts for s in self._store.of_district(dc, first, last)]
        return [s for s in found if state in (None, s.state)]

    def get(self, principal: Principal, signal_id: str) -> sig.Signal:
        access.require_role(principal, Role.CITY_ADMIN, Role.AUDITOR, *access.DISTRICT_ROLES, what="supervision signals")
        found = self._store.get(signal_id) if sig.parse_signal_id(signal_id) else None
        if found is None or not access.sees_district(principal, found.district_code):
            raise NotFound(f"no signal {signal_id}", code="signal_not_found")
        return found

    def review(self, principal: Principal, signal_id: str, decision: object, note: object) -> sig.Signal:
        access.require_role(principal, Role.CITY_ADMIN, *access.DISTRICT_ROLES, what="reviewing supervision signals")
        self.get(principal, signal_id)  # another district's signal is not found, whatever the body says
        if decision not in sig.DECISIONS:
            raise InvalidInput(f"decision is one of {', '.join(sig.DECISIONS)}", code="bad_decision")
        if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
            raise InvalidInput(f"a note of 1 to {MAX_NOTE} characters says why", code="bad_note")
        while True:
            current = self.get(principal, signal_id)
            if current.review:
                if current.review["decision"] == decision and current.review["note"] == note:
                    return current  # the same review resent
                raise Conflict(f"signal {signal_id} was already reviewed", code="already_reviewed")
            done = current.model_copy(update={"version": current.version + 1, "review": {
                "decision": decision, "note": note, "by": principal.subject, "at": self._clock.now().isoformat()}})
            if self._store.replace(done):
                return done

    # Compliance, stored daily (S14)
    def record_compliance(self, report: dict, day: date | None = None) -> bool:
        """Store the day's compliance snapshot once; False: that day is already stored."""
        d = (day or self._clock.now().astimezone(SHANGHAI).date() - timedelta(days=1)).isoformat()
        after = (date.fromisoformat(d) + timedelta(days=1)).isoformat()
        supervision = {}
        for lot in self._lots.list():  # the day's corrections and signals beside each lot's checklist
            figs = [f for f in self._store.days(lot.lot_id, after, 1) if f.day == d]
            if figs and (figs[0].corrections or figs[0].voids):
                supervision.setdefault(lot.lot_id, {}).update(corrections=figs[0].corrections, voids=figs[0].voids)
        for dc in sorted({lot.district_code for lot in self._lots.list()}):
            for s in self._store.of_district(dc, d, d):
                supervision.setdefault(s.lot_id, {}).setdefault("signals", []).append(s.kind)
        return self._store.add_compliance(d, {**report, "day": d, "supervision": supervision})

    def compliance_history(self, principal: Principal, district: str | None, first: str, last: str) -> list[dict]:
        access.require_role(principal, Role.CITY_ADMIN, Role.AUDITOR, *access.DISTRICT_ROLES, what="compliance history")
        scope = access.district_scope(principal, district)
        _day(first), _day(last)
        out = []
        for snap in self._store.compliance(first, last):
            if scope is None:
                out.append(snap)
                continue
            lots = {f["lot_id"] for f in snap["failing"] if f["district_code"] == scope} | {
                lot.lot_id for lot in self._lots.list(scope)}
            out.append({"day": snap["day"], "as_of": snap.get("as_of"), "district": scope,
                        "rate": snap["by_district"].get(scope),
                        "failing": [f for f in snap["failing"] if f["district_code"] == scope],
                        "supervision": {k: v for k, v in snap.get("supervision", {}).items() if k in lots}})
        return out


    def hotspots(self, principal: Principal, district: str | None, day: str) -> dict:
        """The stored hotspot report of ``day`` (utilisation and turnover by lot and hour, the hotspots), cut to
        the caller's district; ``stored: False`` before the day's scan ran."""
        access.require_role(principal, Role.CITY_ADMIN, Role.AUDITOR, *access.DISTRICT_ROLES, what="hotspots")
        scope = access.district_scope(principal, district)
        _day(day)
        snaps = [s for s in self._store.compliance(day, day) if s.get("hotspots")]
        if not snaps:
            return {"day": day, "stored": False}
        report = snaps[0]["hotspots"]
        if scope is not None:
            report = hotspots.scoped(report, scope, {lot.lot_id for lot in self._lots.list(scope)})
        return {**report, "stored": True}


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput("days are YYYY-MM-DD", code="bad_query") from None

