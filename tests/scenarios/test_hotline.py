"""The 24-hour hotline (S8): dispatch, deadlines, escalation by the scheduled sweep with time moved by the
test, closure by confirmation or timeout, the audit trail, what each role sees, statistics, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.auth import Role
from tests.scenarios.conftest import CITIZEN_PLATE  # noqa: F401  (the citizen fixture's plate)

LOT = "lx-nanchang-st-01"  # Liangxi (320213), operator wx-city-parking
CALL = {"category": "gate_fault", "description": "出口道闸不抬杆，已付款", "lot_id": LOT,
        "contact_name": "王先生", "contact_phone": "13812345678"}


@pytest.fixture
def staff(token):
    return {
        "liangxi": token(Role.DISTRICT_ADMIN, district="320213"),
        "xinwu": token(Role.DISTRICT_ADMIN, district="320214"),
        "city": token(Role.CITY_ADMIN),
        "operator": token(Role.OPERATOR, operator="wx-city-parking"),
        "other_operator": token(Role.OPERATOR, operator="xinwu-hitech"),
        "auditor": token(Role.AUDITOR),
    }


def _sweep(stack) -> dict:
    return json.loads(stack.run_due_schedules()["scenario-sweep"])["hotline"]


def _record(call, staff, who="liangxi", **changes):
    status, out = call("post", "/v1/admin/hotline/tickets", staff[who], {**CALL, **changes})
    assert status == 201, out
    return out["ticket"], out["follow_code"]


def test_a_call_is_dispatched_to_the_lots_operator_with_the_categorys_deadline(call, staff, clock):
    ticket, code = _record(call, staff)
    assert (ticket["level"], ticket["operator_id"], ticket["district_code"]) == ("operator", "wx-city-parking", "320213")
    assert ticket["due_at"] == (clock.now() + timedelta(hours=2)).isoformat()
    assert [a["action"] for a in ticket["history"]] == ["created", "dispatched"]
    assert ticket["contact_phone"] == "13812345678" and len(code) == 8
    path = f"/v1/admin/hotline/tickets/{ticket['ticket_id']}"
    as_operator = call("get", path, staff["operator"])[1]
    assert (as_operator["contact_phone"], as_operator["contact_name"]) == ("138****5678", "王**")
    assert call("get", path, staff["auditor"])[1]["contact_phone"] == "138****5678"
    assert [t["ticket_id"] for t in call("get", "/v1/admin/hotline/tickets", staff["operator"])[1]["tickets"]] == [ticket["ticket_id"]]
    assert call("get", "/v1/admin/hotline/tickets", staff["other_operator"])[1]["tickets"] == []
    assert call("get", path, staff["other_operator"])[0] == 404 and call("get", path, staff["xinwu"])[0] == 404
    area, _ = _record(call, staff, lot_id=None, district_code="320213", category="information")
    assert (area["level"], area.get("operator_id")) == ("district", None)


def test_overdue_tickets_escalate_to_the_district_then_the_city(stack, call, staff, clock):
    ticket, _ = _record(call, staff)
    path = f"/v1/admin/hotline/tickets/{ticket['ticket_id']}"
    clock.advance(3600)
    assert _sweep(stack) == {"escalated": 0, "overdue_at_city": 0, "closed_by_timeout": 0}
    clock.advance(3600)  # the 2 h of a gate fault have passed
    assert _sweep(stack)["escalated"] == 1
    now = call("get", path, staff["city"])[1]
    assert (now["level"], now["escalations"]) == ("district", 1)
    assert now["due_at"] == (clock.now() + timedelta(hours=2)).isoformat()
    clock.advance(2 * 3600)
    assert _sweep(stack)["escalated"] == 1 and call("get", path, staff["city"])[1]["level"] == "city"
    clock.advance(2 * 3600)
    assert _sweep(stack)["overdue_at_city"] == 1
    clock.advance(3600)
    assert _sweep(stack) == {"escalated": 0, "overdue_at_city": 0, "closed_by_timeout": 0}  # noted once
    trail = call("get", path, staff["auditor"])[1]["history"]
    assert [a["action"] for a in trail] == ["created", "dispatched", "escalated", "escalated", "overdue"]
    assert all(a["actor"] == "platform" for a in trail[2:])


def test_closure_needs_a_resolution_and_the_callers_confirmation(stack, call, api, staff, clock):
    ticket, code = _record(call, staff)
    tid = ticket["ticket_id"]
    resolve = f"/v1/admin/hotline/tickets/{tid}/resolve"
    assert call("post", resolve, staff["operator"], {})[1]["code"] == "resolution_required"
    assert call("post", resolve, staff["operator"], {"resolution": "  "})[1]["code"] == "resolution_required"
    assert call("post", resolve, staff["auditor"], {"resolution": "x"})[0] == 403
    assert call("post", resolve, staff["other_operator"], {"resolution": "x"})[0] == 404
    clock.advance(40 * 60)
    done = call("post", resolve, staff["operator"], {"resolution": "远程抬杆放行，道闸已修复"})[1]
    assert (done["status"], done["resolved_on_time"]) == ("resolved", True)
    assert call("post", resolve, staff["operator"], {"resolution": "again"})[1]["code"] == "ticket_not_open"

    followed = call("get", f"/v1/hotline/tickets/{tid}?code={code}")[1]
    assert followed["status"] == "resolved" and "contact_phone" not in followed and "actor" not in followed["history"][0]
    assert call("get", f"/v1/hotline/tickets/{tid}?code=00000000")[1]["code"] == "unknown_ticket"
    assert call("get", f"/v1/hotline/tickets/{tid}")[0] == 404
    confirm = f"/v1/hotline/tickets/{tid}/confirm"
    assert call("post", confirm, None, {"code": code, "satisfied": "yes"})[1]["code"] == "invalid_confirmation"
    assert call("post", confirm, None, {"code": "wrong", "satisfied": True})[0] == 404
    closed = call("post", confirm, None, {"code": code, "satisfied": True, "note": "谢谢"})[1]
    assert (closed["status"], closed["closure"]) == ("closed", "confirmed")
    trail = call("get", f"/v1/admin/hotline/tickets/{tid}", staff["city"])[1]["history"]
    assert [(a["action"], a["actor"]) for a in trail[2:]] == [("resolved", "operator-user"), ("confirmed", "caller")]


def test_a_citizen_follows_rejects_and_a_silent_resolution_closes_by_timeout(stack, call, token, citizen, staff, clock):
    status, ticket = call("post", "/v1/me/tickets", citizen,
                          {"category": "wrong_charge", "description": "ETC和扫码重复扣费", "lot_id": LOT})
    assert status == 201 and ticket["channel"] == "window" and ticket["due_at"] == (clock.now() + timedelta(hours=24)).isoformat()
    tid = ticket["ticket_id"]
    assert [t["ticket_id"] for t in call("get", "/v1/me/tickets", citizen)[1]["tickets"]] == [tid]
    assert call("get", f"/v1/me/tickets/{tid}", token(Role.CITIZEN, subject="citizen-2"))[0] == 404
    assert call("post", f"/v1/me/tickets/{tid}/confirm", citizen, {"satisfied": True})[1]["code"] == "ticket_not_resolved"

    clock.advance(25 * 3600)
    assert _sweep(stack)["escalated"] == 1  # late: now the district's
    late = call("post", f"/v1/admin/hotline/tickets/{tid}/resolve", staff["liangxi"], {"resolution": "已退还重复扣款"})[1]
    assert late["resolved_on_time"] is False
    reopened = call("post", f"/v1/me/tickets/{tid}/confirm", citizen, {"satisfied": False, "note": "还没到账"})[1]
    assert reopened["status"] == "open" and reopened.get("resolution") is None
    call("post", f"/v1/admin/hotline/tickets/{tid}/resolve", staff["liangxi"], {"resolution": "退款已到账"})
    clock.advance(71 * 3600)
    assert _sweep(stack)["closed_by_timeout"] == 0
    clock.advance(3600)
    assert _sweep(stack)["closed_by_timeout"] == 1
    mine = call("get", f"/v1/me/tickets/{tid}", citizen)[1]
    assert (mine["status"], mine["closure"], mine["resolved_on_time"]) == ("closed", "timeout", False)
    assert [a["action"] for a in mine["history"]][-4:] == ["resolved", "reopened", "resolved", "closed"]


def test_statistics_per_district_and_operator(stack, call, staff, clock):
    first, _ = _record(call, staff)
    second, _ = _record(call, staff, category="service")
    _record(call, staff, who="city", lot_id="xw-taihu-plaza")
    call("post", f"/v1/admin/hotline/tickets/{first['ticket_id']}/resolve", staff["operator"], {"resolution": "修好"})
    clock.advance(49 * 3600)
    call("post", f"/v1/admin/hotline/tickets/{second['ticket_id']}/resolve", staff["operator"], {"resolution": "已道歉"})
    figures = call("get", "/v1/admin/hotline/stats", staff["city"])[1]
    liangxi = next(s for s in figures["districts"] if s["scope"] == "320213")
    assert (liangxi["volume"], liangxi["resolved"], liangxi["on_time"], liangxi["on_time_rate"]) == (2, 2, 1, 0.5)
    assert [s["scope"] for s in figures["operators"]] == ["wx-city-parking", "xinwu-hitech"]
    own = call("get", "/v1/admin/hotline/stats", staff["operator"])[1]
    assert [s["scope"] for s in own["districts"]] == ["320213"]
    xinwu = call("get", "/v1/admin/hotline/stats", staff["xinwu"])[1]
    assert [(s["scope"], s["volume"], s["open"], s["on_time_rate"]) for s in xinwu["districts"]] == [("320214", 1, 1, None)]
    assert xinwu["districts"][0]["overdue_now"] == 1  # its 2 h passed long ago


@pytest.mark.parametrize("change, status, code", [
    ({"category": "noise"}, 400, "invalid_ticket"),
    ({"description": ""}, 400, "invalid_ticket"),
    ({"contact_phone": "call me"}, 400, "invalid_ticket"),
    ({"contact_phone": None}, 400, "contact_required"),
    ({"lot_id": None}, 400, "place_required"),
    ({"lot_id": "no-such-lot"}, 404, "unknown_lot"),
    ({"lot_id": LOT, "district_code": "320214"}, 400, "invalid_ticket"),
    ({"district_code": "999999", "lot_id": None}, 400, "invalid_ticket"),
    ({"extra": 1}, 400, "invalid_ticket"),
])  # fmt: skip
def test_bad_calls_are_4xx_with_a_code(call, staff, change, status, code):
    got = call("post", "/v1/admin/hotline/tickets", staff["liangxi"], {**CALL, **change})
    assert (got[0], got[1]["code"]) == (status, code)


def test_who_may_record_and_read(call, staff, token, citizen):
    assert call("post", "/v1/admin/hotline/tickets", staff["operator"], CALL)[1]["code"] == "role_forbidden"
    assert call("post", "/v1/admin/hotline/tickets", staff["auditor"], CALL)[1]["code"] == "role_forbidden"
    assert call("post", "/v1/admin/hotline/tickets", staff["xinwu"], CALL)[1]["code"] == "district_forbidden"
    assert call("post", "/v1/admin/hotline/tickets", citizen, CALL)[0] == 403
    assert call("post", "/v1/admin/hotline/tickets", staff["city"], "not json")[1]["code"] == "invalid_json"
    assert call("post", "/v1/me/tickets", staff["city"], CALL)[1]["code"] == "citizen_only"
    assert call("get", "/v1/me/tickets", staff["city"])[1]["code"] == "citizen_only"
    assert call("get", "/v1/admin/hotline/stats", citizen)[0] == 403
    assert call("get", "/v1/admin/hotline/tickets", None)[0] == 401


def test_statistics_feed_the_supervision_report(stack, call, staff, clock):
    """The compliance report (S14) carries the hotline's figures of the same scope: volume and on-time rate
    per district and per operator."""
    first, _ = _record(call, staff)
    _record(call, staff, who="city", lot_id="xw-taihu-plaza")
    call("post", f"/v1/admin/hotline/tickets/{first['ticket_id']}/resolve", staff["operator"], {"resolution": "修好"})
    city = call("get", "/v1/admin/compliance", staff["city"])[1]["hotline"]
    assert [(s["scope"], s["volume"], s["on_time_rate"]) for s in city["districts"]] == [("320213", 1, 1.0), ("320214", 1, None)]
    assert [s["scope"] for s in city["operators"]] == ["wx-city-parking", "xinwu-hitech"]
    liangxi = call("get", "/v1/admin/compliance", staff["liangxi"])[1]["hotline"]
    assert [s["scope"] for s in liangxi["districts"]] == ["320213"] and [s["scope"] for s in liangxi["operators"]] == ["wx-city-parking"]
    only_xinwu = call("get", "/v1/admin/compliance?district=320214", staff["city"])[1]["hotline"]
    assert [(s["scope"], s["volume"]) for s in only_xinwu["districts"]] == [("320214", 1)]
