"""Property tests of the session rules (``shared/sessions/planner.py``), with no infrastructure: the
session service on the in-memory store, the tariff-free gate and the fake workflows. Any order of entries
and exits, resent or not, keeps the invariants the planner's docstring promises."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.adapters.memory.events import AckStore
from shared.adapters.memory.lot_status import LotStatusStore
from shared.adapters.memory.sessions import SessionStore
from shared.adapters.memory.workflows import Workflows
from shared.ingest.ports import AckRecord
from shared.protocol.events import EntryEvent, ExitEvent
from shared.registry.model import Lot
from shared.sessions.gate import NoTariffGate
from shared.sessions.model import Flag, SessionStatus
from shared.sessions.service import SessionService

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone(timedelta(hours=8)))
LOT = Lot.model_validate({
    "lot_id": "lx-lot", "name": "lot", "district_code": "320213", "operator_id": "op", "kind": "enclosed",
    "capacity": 100, "location": {"lat": 31.5, "lon": 120.3}})  # fmt: skip
PLATES = ("苏B12345", "苏B67890", "苏A11111")

# (kind, plate index, minutes after T0, resend an earlier event instead)
steps = st.lists(
    st.tuples(st.sampled_from(["entry", "exit"]), st.integers(0, len(PLATES) - 1), st.integers(0, 600), st.booleans()),
    min_size=1, max_size=25,
)  # fmt: skip


def _event(i: int, kind: str, plate: str, minutes: int):
    cls = EntryEvent if kind == "entry" else ExitEvent
    return cls(event_id=f"e{i}", type=kind, lot_id=LOT.lot_id, occurred_at=T0 + timedelta(minutes=minutes),
               plate=plate, plate_colour="blue", lane="in-1" if kind == "entry" else "out-1")  # fmt: skip


def _run(script):
    acks = AckStore()
    status = LotStatusStore(acks)
    store = SessionStore(acks, status)
    workflows = Workflows()
    service = SessionService(store, workflows, NoTariffGate(), review_after_s=900)
    sent, answers = [], {}
    for i, (kind, p, minutes, resend) in enumerate(script):
        event = sent[i % len(sent)] if resend and sent else _event(i, kind, PLATES[p], minutes)
        if event not in sent:
            sent.append(event)

        def record(ack, event=event):
            return AckRecord(lot_id=LOT.lot_id, district_code="320213", device_id="cam", event={}, ack=ack)

        ack = service.apply(event, LOT, T0, record)
        if ack is None:  # the event was applied before: nothing more may change
            assert event.event_id in answers
        else:
            answers[event.event_id] = (event, ack)
    return store, status, workflows, answers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_at_most_one_open_session_per_plate_and_the_count_agrees(script):
    store, status, _, _ = _run(script)
    open_now = store.open_in_lot(LOT.lot_id)
    assert len({s.plate for s in open_now}) == len(open_now)
    assert status.get(LOT.lot_id).open_count == len(open_now)
    for s in open_now:  # every open session is the one its pointer names
        assert store.open_for(LOT.lot_id, s.subject) == s


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_no_exit_is_silently_free(script):
    store, _, workflows, answers = _run(script)
    for event, ack in answers.values():
        session = store.get(ack.session_id)
        assert session is not None
        if isinstance(event, ExitEvent):
            # it closed a session with a known entry, or it waits for one under review, flagged
            assert session.status is SessionStatus.CLOSED and session.entered_at is not None or (
                Flag.EXIT_WITHOUT_ENTRY.value in ack.flags
                and any(r.name == session.session_id for r in workflows.runs("unmatched-exit-review"))
            )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_a_resent_event_changes_nothing(script):
    store, status, _, answers = _run(script)
    before = (dict(store.sessions), dict(store.pointers), status.get(LOT.lot_id))
    for event, _ in answers.values():
        record = AckRecord(lot_id=LOT.lot_id, district_code="320213", device_id="cam", event={}, ack=answers[event.event_id][1])
        service = SessionService(store, Workflows(), NoTariffGate(), review_after_s=900)
        assert service.apply(event, LOT, T0, lambda ack, r=record: r) is None
    assert (dict(store.sessions), dict(store.pointers), status.get(LOT.lot_id)) == before
