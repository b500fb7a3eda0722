"""The governance loop's PostingReader, StatementStore and Transport contracts (shared.settlement.ports,
shared.citypush.ports), on both implementations: the ledger reader over the in-memory ledger and over the
DynamoDB ledger (moto); the recording transport and the HTTP transport against a local receiver."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.adapters.city_push import HttpTransport
from shared.adapters.memory.governance import RecordingTransport
from shared.ledger.model import Posting
from tests.contracts.records import T0
from tools.city_receiver import Receiver


def _charge(pid: str, op: str, plate: str, amount: int, minutes: int) -> Posting:
    return Posting.charge(pid, plate, op, amount, T0 + timedelta(minutes=minutes))


def test_a_posting_is_stored_once_and_moves_the_balance(stores, uid):
    reader, op = stores.ledger_reader, f"op-g{uid}"
    posting = _charge(f"g-{uid}", op, "苏B12345", 600, 0)
    assert reader.post(posting)
    assert not reader.post(posting)
    assert reader.balance(f"operator_revenue:{op}") == -600


def test_postings_are_those_in_the_window_on_the_accounts_each_once(stores, uid):
    reader, op, other = stores.ledger_reader, f"op-g{uid}", f"op-h{uid}"
    inside = [_charge(f"in-{uid}-{m}", op, "苏B12345", 100 + m, m) for m in (0, 30, 59)]
    for p in [*inside, _charge(f"end-{uid}", op, "苏B12345", 7, 60), _charge(f"before-{uid}", op, "苏B12345", 8, -1),
              _charge(f"other-{uid}", other, "苏B12345", 9, 10)]:
        assert reader.post(p)
    start, end = T0, T0 + timedelta(minutes=60)
    accounts = [f"operator_revenue:{op}", f"operator_revenue:{op}"]  # named twice: still each posting once
    got = reader.postings(accounts, start, end)
    assert sorted(p.posting_id for p in got) == sorted(p.posting_id for p in inside)
    assert {p.posting_id: p for p in got}[inside[1].posting_id] == inside[1]
    lines = reader.lines(f"operator_revenue:{op}", start, end)
    assert sorted((ln.posting_id, ln.amount_fen) for ln in lines) == sorted((p.posting_id, -(100 + m)) for p, m in zip(inside, (0, 30, 59)))  # revenue is a credit
    assert all(start <= ln.occurred_at < end for ln in lines)
    assert reader.postings([f"operator_revenue:nobody-{uid}"], start, end) == []


@pytest.fixture(params=["memory", "http"])
def transport(request):
    """(transport, url, script): ``script(status)`` makes the next answer that status; None: unreachable."""
    if request.param == "memory":
        fake = RecordingTransport()
        yield fake, "memory://city", fake.answers.append
        return
    receiver = Receiver("contract-key").start()

    def script(status):
        receiver.script.append("drop" if status is None else str(status))

    try:
        yield HttpTransport(), receiver.url, script
    finally:
        receiver.stop()


def test_a_transport_answers_the_status_or_says_it_could_not_reach(transport):
    sender, url, script = transport
    from shared.protocol import signing

    body = b'{"push_id": "p-contract"}'
    headers = {"Content-Type": "application/json", **signing.signed_headers("tongting-platform", "contract-key", body, 0)}
    assert sender.send(url, body, headers, 2.0) == (200, None)
    script(500)
    status, error = sender.send(url, body, headers, 2.0)
    assert status == 500 and error and "500" in error
    script(None)
    status, error = sender.send(url, body, headers, 2.0)
    assert status is None and error.startswith("unreachable")


def _statement(op: str, day: str, collected: int):
    from shared.settlement.model import Figures, Statement

    return Statement(statement_id=f"st_{op}_{day}", operator_id=op, district_code="320213", day=day, issued_at=T0,
                     current=Figures(sessions=1, gross_billed_fen=collected, collected_fen={"wechat_pay": collected}),
                     adjustments=Figures(), ledger={f"operator_revenue:{op}": -collected})


def test_a_statement_is_issued_once_with_the_postings_it_covers(stores, uid):
    store, op = stores.statements, f"op-s{uid}"
    first = _statement(op, "2026-01-01", 600)
    assert store.issue(first, ["p-1", "p-2"])
    assert store.get(op, "2026-01-01") == first and store.covered(first) == {"p-1", "p-2"}
    assert store.get(op, "2026-01-02") is None
    for day in ("2026-01-02", "2026-01-03", "2026-02-01"):
        assert store.issue(_statement(op, day, 100), [])
    assert [s.day for s in store.list(op, "2026-01-01", "2026-01-31")] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert store.list(f"op-nobody-{uid}", "2026-01-01", "2026-12-31") == []


def test_a_second_issue_of_a_statement_changes_nothing(stores, uid):
    store, op = stores.statements, f"op-r{uid}"
    first = _statement(op, "2026-01-01", 600)
    assert store.issue(first, ["p-1", "p-2"])
    assert not store.issue(_statement(op, "2026-01-01", 999), ["p-3"])  # issued statements never change
    assert store.get(op, "2026-01-01") == first and store.covered(first) == {"p-1", "p-2"}


def test_a_half_years_fee_is_issued_once_per_operator(stores, uid):
    from shared.settlement.model import FeeStatement

    store, op, other = stores.statements, f"op-f{uid}", f"op-e{uid}"

    def fee(operator: str, fen: int) -> FeeStatement:
        return FeeStatement(fee_id=f"fee_{operator}_2026H1", operator_id=operator, district_code="320213", half="2026H1",
                            revenue_fen=fen * 33, fee_fen=fen, rates=[{"basis_points": 300, "revenue_fen": fen * 33}],
                            days_settled=181, posting_id=f"fee:{operator}:2026H1", issued_at=T0)

    assert store.issue_fee(fee(op, 7257))
    assert not store.issue_fee(fee(op, 1))  # billed once: the first stays
    assert store.get_fee(op, "2026H1") == fee(op, 7257) and store.get_fee(op, "2026H2") is None
    assert store.issue_fee(fee(other, 5))
    assert {f.operator_id for f in store.list_fees() if f.operator_id in (op, other)} == {op, other}
    assert [f.fee_fen for f in store.list_fees(op)] == [7257]
