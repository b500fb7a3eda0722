"""``GET /v1/me/bills`` a page at a time (issue 10, fourth part): the newest first, 4 by default, an opaque
cursor to the next page; every bill of the citizen's plates exactly once across the pages, none from before a
plate was proved; a cursor or limit that is not one we gave is a 400 with its code. On memory, and the same
walk on DynamoDB (the index query's range condition)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from shared.payments.ports import Change
from tests.contracts.records import bill
from tests.test_service_window_api import _caller

PLATES = ("苏B12345", "苏B67890")


@pytest.fixture
def alice(platform, api, city, clock):
    me = _caller(api, platform.services, clock, "alice")
    me("post", "/v1/me/account", {"consent": True})
    money = platform.services.stores.money
    money.commit(Change(bills=[bill("bill_before_alice", plate=PLATES[0], created_at=clock.now() - timedelta(days=1))]))
    for plate in PLATES:
        me("post", "/v1/me/plates", {"plate": plate})
        me("post", "/v1/me/plates/verify", {"plate": plate, "code": platform.services.plate_verifier.sent[plate]})
    start = clock.now() + timedelta(minutes=1)
    for i in range(13):  # alternating plates; two bills share an instant
        at = start + timedelta(hours=i if i != 12 else 11)
        money.commit(Change(bills=[bill(f"bill_{i:02d}", plate=PLATES[i % 2], created_at=at)]))
    return me


def _walk(me, limit=None) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = "&".join(f"{k}={v}" for k, v in (("limit", limit), ("cursor", cursor)) if v is not None)
        status, body = me("get", "/v1/me/bills" + (f"?{query}" if query else ""))
        assert status == 200, body
        pages.append([b["bill_id"] for b in body["bills"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


WANT = [f"bill_{i:02d}" for i in (12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)]  # newest first; 11 and 12 tie


def _check_pages(alice) -> None:
    assert _walk(alice) == [WANT[0:4], WANT[4:8], WANT[8:12], WANT[12:]]  # 4 by default (PAGE)
    assert _walk(alice, limit=5) == [WANT[0:5], WANT[5:10], WANT[10:]]
    assert _walk(alice, limit=13) == [WANT] and _walk(alice, limit=50) == [WANT]  # bill_before_alice never


def test_a_citizens_bills_come_a_page_at_a_time_each_once(alice):
    _check_pages(alice)


def test_the_pages_on_dynamodb(stack, alice):
    _check_pages(alice)


@pytest.mark.parametrize("query, code", [
    ("cursor=garbage!", "bad_cursor"),
    ("cursor=" + base64.urlsafe_b64encode(b'["yesterday","bill_01"]').decode(), "bad_cursor"),
    ("cursor=" + base64.urlsafe_b64encode(b'["2026-11-23T08:00:00","bill_01"]').decode(), "bad_cursor"),  # no offset
    ("cursor=" + base64.urlsafe_b64encode(b'{"a": 1}').decode(), "bad_cursor"),
    ("cursor=" + "A" * 300, "bad_cursor"),
    ("cursor=", "bad_cursor"),
    ("limit=0", "bad_limit"), ("limit=51", "bad_limit"), ("limit=ten", "bad_limit"), ("limit=-1", "bad_limit"),
])
def test_a_cursor_or_limit_we_did_not_give_is_a_400_with_its_code(alice, query, code):
    status, body = alice("get", f"/v1/me/bills?{query}")
    assert (status, body["code"]) == (400, code) and body["message"]
