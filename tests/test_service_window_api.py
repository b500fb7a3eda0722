"""The service window's refusals and rights: who may register which plate, see which bill, dispute it;
tariff uploads refused with their reason; a partially upheld dispute refunds the difference."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.auth import Role
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from shared.tokens import mint
from tests.support import CallbackPoster, gate_event, price_lot

LOT = "lx-nanchang-st-01"


def _caller(api, services, clock, subject, role=Role.CITIZEN, **claims):
    token = mint(services.token_key(), subject=subject, role=role, now=clock.now(), ttl=timedelta(days=30), **claims)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method, path, body=None):
        resp = getattr(api, method)(path, headers=headers, body=json.dumps(body) if body is not None else None)
        return resp.status_code, json.loads(resp.body)

    return call


@pytest.fixture
def alice(platform, api, city, clock):
    me = _caller(api, platform.services, clock, "alice")
    me("post", "/v1/me/account", {"consent": True})
    me("post", "/v1/me/plates", {"plate": "苏B12345"})
    me("post", "/v1/me/plates/verify", {"plate": "苏B12345", "code": platform.services.plate_verifier.sent["苏B12345"]})
    return me


def test_plate_verification_refusals(platform, api, clock, alice):
    bob = _caller(api, platform.services, clock, "bob")
    assert bob("post", "/v1/me/plates", {"plate": "苏B12345"})[1]["code"] == "no_account"
    bob("post", "/v1/me/account", {"consent": True})
    assert bob("post", "/v1/me/plates", {"plate": "XX"})[1]["code"] == "malformed_plate"
    assert bob("post", "/v1/me/plates", {"plate": "B12345"})[1]["code"] == "malformed_plate"  # whole plate only
    bob("post", "/v1/me/plates", {"plate": "苏B12345"})
    status, body = bob("post", "/v1/me/plates/verify", {"plate": "苏B12345", "code": "000000x"})
    assert (status, body["code"]) == (400, "verification_failed")
    status, body = bob("post", "/v1/me/plates/verify", {"plate": "苏B12345", "code": platform.services.plate_verifier.sent["苏B12345"]})
    assert (status, body["code"]) == (409, "plate_taken")  # alice proved it first
    clock.advance(minutes=20)
    assert bob("post", "/v1/me/plates/verify", {"plate": "苏B99999", "code": "1"})[1]["code"] == "verification_expired"


def test_staff_tokens_are_not_citizens_and_citizens_are_not_staff(platform, api, clock, alice):
    staff = _caller(api, platform.services, clock, "lx", Role.DISTRICT_ADMIN, district_code="320213")
    assert staff("get", "/v1/me/account")[1]["code"] == "citizen_only"
    assert alice("get", "/v1/admin/arrears")[0] == 403
    assert alice("get", "/v1/admin/ledger/check")[0] == 403


def test_a_citizen_disputes_only_their_own_bills_and_a_partial_uphold_refunds_the_difference(platform, api, device, clock, alice):
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    clock.advance(hours=2.5)
    device("lx-out1").post(gate_event("exit", "苏B12345", clock.now()))
    bill_id = alice("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "wechat_pay"}))
    sandbox = platform.services.providers["sandbox"]
    sandbox.approve(platform.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))

    mallory = _caller(api, platform.services, clock, "mallory")
    mallory("post", "/v1/me/account", {"consent": True})
    assert mallory("post", f"/v1/me/bills/{bill_id}/disputes", {"reason": "other"})[1]["code"] == "unknown_bill"  # as if absent: no existence oracle
    assert alice("post", f"/v1/me/bills/{bill_id}/disputes", {"reason": "nonsense"})[1]["code"] == "bad_reason"
    status, dispute = alice("post", f"/v1/me/bills/{bill_id}/disputes", {"reason": "missed_exit", "detail": "left at 10:30"})
    assert status == 201 and dispute["evidence"]["entered_at"]

    xinwu = _caller(api, platform.services, clock, "xw", Role.DISTRICT_ADMIN, district_code="320214")
    assert xinwu("post", f"/v1/admin/disputes/{bill_id}/resolve", {"decision": "upheld", "fair_amount_fen": 400})[0] == 404  # another district's dispute answers as absent
    liangxi = _caller(api, platform.services, clock, "lx", Role.DISTRICT_ADMIN, district_code="320213")
    assert [d["bill_id"] for d in liangxi("get", "/v1/admin/disputes")[1]["disputes"]] == [bill_id]
    assert liangxi("post", f"/v1/admin/disputes/{bill_id}/resolve", {"decision": "upheld", "fair_amount_fen": 4.5})[1]["code"] == "bad_amount"
    status, decided = liangxi("post", f"/v1/admin/disputes/{bill_id}/resolve", {"decision": "upheld", "fair_amount_fen": 400, "note": "left at 10:30"})
    assert status == 200 and decided["decision"] == "upheld"

    bill = platform.services.billing.get(bill_id)
    assert (bill.paid_fen, bill.adjusted_fen, bill.refunded_fen, bill.balance_fen) == (600, 200, 200, 0)  # a partial refund
    assert platform.services.ledger.check() == []
    # The refund is visible to the citizen as a refund, not only as a bill figure.
    [mine] = [b for b in alice("get", "/v1/me/bills")[1]["bills"] if b["bill_id"] == bill_id]
    assert [(r["amount_fen"], r["reason"], r["channel"]) for r in mine["refunds"]] == [(200, "dispute", "wechat_pay")]
    assert mine["refunds"][0]["created_at"].endswith("+08:00")


def test_tariff_uploads_are_validated_and_history_is_immutable(platform, api, clock, city):
    city_admin = _caller(api, platform.services, clock, "city", Role.CITY_ADMIN)
    liangxi = _caller(api, platform.services, clock, "lx", Role.DISTRICT_ADMIN, district_code="320213")
    tariff = ZHUMADIAN_CLASS1.model_dump(mode="json")
    bad = json.loads(json.dumps(tariff))
    bad["versions"][0]["rules"][0]["blocks"][0]["price_fen"] = -400
    status, body = city_admin("put", "/v1/admin/tariffs/zmd", {"tariff": bad})
    assert (status, body["code"]) == (400, "tariff_negative_amount")
    assert liangxi("put", "/v1/admin/tariffs/zmd", {"tariff": tariff, "district_code": "320214"})[1]["code"] == "tariff_forbidden"
    status, stored = liangxi("put", "/v1/admin/tariffs/zmd", {"tariff": tariff, "district_code": "320213"})
    assert status == 200 and stored["version"] == 1
    changed = json.loads(json.dumps(tariff))
    changed["versions"][0]["cap"]["amount_fen"] = 3000
    status, body = liangxi("put", "/v1/admin/tariffs/zmd", {"tariff": changed, "district_code": "320213", "version": 1})
    assert (status, body["code"]) == (409, "tariff_history_changed")
    future = json.loads(json.dumps(tariff))
    future["versions"].append({**changed["versions"][0], "effective_from": (clock.now() + timedelta(days=30)).isoformat()})
    status, body = liangxi("put", "/v1/admin/tariffs/zmd", {"tariff": future, "district_code": "320213", "version": 1})
    assert status == 200 and len(body["tariff"]["versions"]) == 2


def test_openapi_states_the_status_each_post_answers(api):
    doc = json.loads(api.get("/openapi.json").body)
    assert "201" in doc["paths"]["/v1/pay/{lot_id}/payments"]["post"]["responses"]
    assert "202" in doc["paths"]["/v1/me/plates"]["post"]["responses"]
    assert "200" in doc["paths"]["/v1/admin/disputes/{bill_id}/resolve"]["post"]["responses"]


def test_a_new_keeper_does_not_see_the_previous_keepers_bills(platform, api, device, clock, city):
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    device("lx-in1").post(gate_event("entry", "苏B66666", clock.now()))
    clock.advance(hours=2)
    device("lx-out1").post(gate_event("exit", "苏B66666", clock.now()))  # the previous keeper's stay
    clock.advance(days=3)
    buyer = _caller(api, platform.services, clock, "buyer")
    buyer("post", "/v1/me/account", {"consent": True})
    buyer("post", "/v1/me/plates", {"plate": "苏B66666"})
    buyer("post", "/v1/me/plates/verify", {"plate": "苏B66666", "code": platform.services.plate_verifier.sent["苏B66666"]})
    assert buyer("get", "/v1/me/bills")[1]["bills"] == []
    old_bill = platform.services.billing.of_plate("苏B66666")[0]
    assert buyer("post", f"/v1/me/bills/{old_bill.bill_id}/disputes", {"reason": "other"})[1]["code"] == "unknown_bill"  # as if absent: no existence oracle
