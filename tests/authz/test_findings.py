"""Issue 15's findings, one test each: each failed before its fix (authorization leaks, crashes on
malformed input, contract gaps). The authorization matrix (test_matrix.py) then covers the whole class.
They are rules of the services and the HTTP layer, so they run on the in-memory stores (``platform``); the
stores' own behaviour is the contract suites' job (tests/contracts)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared import tokens
from shared.adapters.payments import signed_callbacks
from shared.auth import Principal, Role
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import gate_event, price_lot

LX, XW = "320213", "320214"
PLATE = "苏B12345"


def forged(platform, clock, claims: dict) -> dict:
    """A token signed with the real key whose claims our mint would refuse (as a leaked key or a bug would make)."""
    import jwt

    claims = {"iat": int(clock.now().timestamp()), "exp": int(clock.now().timestamp()) + 3600, **claims}
    return {"Authorization": "Bearer " + jwt.encode(claims, platform.services.token_key(), algorithm="HS256")}


def call(api, method, path, headers=None, body=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    resp = getattr(api, method)(path, headers={"Content-Type": "application/json", **(headers or {})}, body=data)
    return resp.status_code, json.loads(resp.body or b"null")


def _bill(platform, device, clock, lot="lx-nanchang-st-01", plate=PLATE):
    cams = {"lx-nanchang-st-01": ("lx-in1", "lx-out1"), "xw-taihu-plaza": ("xw-in1", "xw-in1")}[lot]
    price_lot(platform.services, lot, ZHUMADIAN_CLASS1)
    device(cams[0]).post(gate_event("entry", plate, clock.now(), lot=lot))
    clock.advance(3 * 3600)
    status, body = device(cams[1]).post(gate_event("exit", plate, clock.now(), lot=lot))
    assert status == 200, body
    (bill,) = [b for b in platform.services.billing.of_plate(plate) if b.lot_id == lot]
    return bill


# --- Authorization ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/admin/lots", "/v1/admin/tariffs", "/v1/admin/districts"])
def test_a_citizen_token_is_refused_on_staff_lists(api, bearer, path):
    status, body = call(api, "get", path, bearer(Role.CITIZEN))
    assert (status, body["code"]) == (403, "role_forbidden")


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.OPERATOR, Role.CITY_ADMIN, Role.AUDITOR])
def test_a_district_claim_on_a_non_district_role_is_refused(api, platform, clock, city, role):
    claims = {"sub": "x", "role": role.value, "district": LX, **({"operator": "wx-city-parking"} if role is Role.OPERATOR else {})}
    status, body = call(api, "get", "/v1/admin/lots", forged(platform, clock, claims))
    assert (status, body["code"]) == (401, "token_claims")
    with pytest.raises(Exception):
        tokens.mint(platform.services.token_key(), subject="x", role=role, now=clock.now(), district_code=LX,
                    operator_id="wx-city-parking" if role is Role.OPERATOR else None)
    with pytest.raises(ValueError):
        Principal(subject="x", role=role, district_code=LX, operator_id="wx-city-parking" if role is Role.OPERATOR else None)


def test_an_operator_claim_only_on_operators(api, platform, clock, city):
    status, body = call(api, "get", "/v1/admin/lots", forged(platform, clock, {"sub": "x", "role": "district_admin", "district": LX, "operator": "xinwu-hitech"}))
    assert (status, body["code"]) == (401, "token_claims")


def test_a_district_admin_cannot_change_an_operator_working_elsewhere(api, platform, bearer):
    # an operator registered in Liangxi whose lots are all in Xinwu
    from tests.support import CITY_ADMIN

    reg = platform.services.registry
    reg.register_operator(CITY_ADMIN, {"operator_id": "lx-reg-xw-lots", "name": "n", "credit_code": "91320200MA1XXXXX0A",
                                       "ownership": "social", "district_code": LX, "payout_account_ref": "acct_1"})
    reg.register_lot(CITY_ADMIN, {"lot_id": "xw-other", "name": "新吴", "district_code": XW, "operator_id": "lx-reg-xw-lots",
                                  "kind": "enclosed", "capacity": 10, "location": {"lat": 31.49, "lon": 120.36}})
    operator = reg.operators.require("lx-reg-xw-lots").model_dump(mode="json")
    status, body = call(api, "put", "/v1/admin/operators/lx-reg-xw-lots", bearer(Role.DISTRICT_ADMIN, district_code=LX),
                        {**operator, "payout_account_ref": "acct_attacker"})
    assert (status, body["code"]) == (403, "district_forbidden")
    assert reg.operators.require("lx-reg-xw-lots").payout_account_ref == "acct_1"
    # Xinwu's staff, where its lots are, may read it
    assert call(api, "get", "/v1/admin/operators/lx-reg-xw-lots", bearer(Role.DISTRICT_ADMIN, district_code=XW))[0] == 200


def test_an_operator_sees_no_arrears_case_before_hand_over(api, platform, device, clock, bearer):
    bill = _bill(platform, device, clock)
    case = platform.services.arrears.open(bill, {})
    op = bearer(Role.OPERATOR, operator_id="wx-city-parking")
    status, body = call(api, "get", f"/v1/admin/arrears/{case.case_id}", op)
    assert (status, body["code"]) == (404, "unknown_case")
    status, body = call(api, "post", f"/v1/admin/arrears/{case.case_id}/contacts", op, {"channel": "phone", "outcome": "x"})
    assert (status, body["code"]) == (404, "unknown_case")
    assert call(api, "get", "/v1/admin/arrears", op)[1]["cases"] == []
    assert call(api, "get", f"/v1/admin/arrears/{case.case_id}", bearer(Role.DISTRICT_ADMIN, district_code=LX))[0] == 200


def test_a_bill_of_someone_else_answers_as_absent(api, platform, device, clock, bearer):
    bill = _bill(platform, device, clock)
    me = bearer(Role.CITIZEN, subject="mallory")
    call(api, "post", "/v1/me/account", me, {"consent": True})
    there = call(api, "post", f"/v1/me/bills/{bill.bill_id}/disputes", me, {"reason": "other"})
    absent = call(api, "post", "/v1/me/bills/bill_does_not_exist/disputes", me, {"reason": "other"})
    assert there[0] == absent[0] == 404 and there[1]["code"] == absent[1]["code"] == "unknown_bill"
    xw = bearer(Role.DISTRICT_ADMIN, district_code=XW)
    assert call(api, "get", f"/v1/admin/bills/{bill.bill_id}", xw)[1]["code"] == call(api, "get", "/v1/admin/bills/nope", xw)[1]["code"]


def test_the_city_admin_sees_every_districts_disputes(api, bearer):
    status, body = call(api, "get", "/v1/admin/disputes", bearer(Role.CITY_ADMIN))
    assert (status, body) == (200, {"disputes": []})


def test_the_pay_page_shows_a_stranger_only_this_lots_amount(api, platform, device, clock):
    elsewhere = _bill(platform, device, clock, lot="xw-taihu-plaza")
    platform.services.arrears.open(elsewhere, {})
    from tests.support import CITY_ADMIN

    lot = platform.services.registry.lots.require("lx-nanchang-st-01")  # the same tariff, registered by _bill
    platform.services.registry.update_lot(CITY_ADMIN, lot.lot_id, {**lot.model_dump(mode="json"), "tariff_ref": ZHUMADIAN_CLASS1.id})
    device("lx-in1").post(gate_event("entry", PLATE, clock.now()))  # parked here now; owes in Xinwu
    clock.advance(3600)
    status, body = call(api, "get", f"/v1/pay/lx-nanchang-st-01?plate={PLATE}")
    assert status == 200, body
    assert body["arrears"] == []
    assert "320214" not in json.dumps(body, ensure_ascii=False) and PLATE not in json.dumps(body, ensure_ascii=False)


def test_plate_codes_are_rate_limited_and_a_new_code_does_not_reset_wrong_guesses(api, platform, bearer):
    me = bearer(Role.CITIZEN, subject="eve")
    call(api, "post", "/v1/me/account", me, {"consent": True})
    for n in range(3):
        assert call(api, "post", "/v1/me/plates", me, {"plate": PLATE})[0] == 202
        for _ in range(2 if n < 2 else 1):
            assert call(api, "post", "/v1/me/plates/verify", me, {"plate": PLATE, "code": "000000"})[1]["code"] == "verification_failed"
    status, body = call(api, "post", "/v1/me/plates/verify", me, {"plate": PLATE, "code": "000000"})
    assert (status, body["code"]) == (429, "verification_locked") and body["retry_after"] > 0
    status, body = call(api, "post", "/v1/me/plates", me, {"plate": PLATE})
    assert (status, body["code"]) == (429, "rate_limited") and 0 < body["retry_after"] <= 24 * 3600 + 1
    # others asking for the same plate: capped per plate, whoever asks
    statuses = []
    for n in range(4):
        other = bearer(Role.CITIZEN, subject=f"sybil-{n}")
        call(api, "post", "/v1/me/account", other, {"consent": True})
        statuses.append(call(api, "post", "/v1/me/plates", other, {"plate": PLATE})[0])
    assert statuses == [202, 202, 429, 429]


# --- Crashes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("header", ["Bearer W10.e30.", "Bearer W10.W10.", "Bearer e30.W10.", "Bearer ...", "Bearer " + "a" * 9000,
                                    "Basic Zm9vOmJhcg==", "Bearer"])
def test_malformed_bearer_tokens_are_401_with_a_code(api, city, header):
    status, body = call(api, "get", "/v1/admin/lots", {"Authorization": header})
    assert status == 401 and body["code"].startswith("token_"), body


def test_a_non_integer_exp_is_401(api, platform, clock, city):
    status, body = call(api, "get", "/v1/admin/lots", forged(platform, clock, {"sub": "x", "role": "city_admin", "exp": "abc"}))
    assert (status, body["code"]) == (401, "token_claims")


def test_a_missing_authorization_header_is_401_with_a_code(api, city):
    status, body = call(api, "get", "/v1/admin/lots")
    assert (status, body["code"]) == (401, "token_missing")


@pytest.mark.parametrize("ts", ["9" * 400, "1" * 5000, "²", "１７００"])
def test_odd_timestamps_are_401(device, ts):
    status, body = device("lx-in1").post({"x": 1}, ts=ts)
    assert (status, body["code"]) == (401, "timestamp_invalid")


def test_an_empty_lot_id_rejects_only_its_event(device, clock):
    good = gate_event("entry", PLATE, clock.now())
    status, body = device("lx-in1").post({"events": [{**gate_event("entry", "苏B22222", clock.now()), "lot_id": ""}, good]})
    assert status == 200, body
    assert [a["status"] for a in body["acks"]] == ["rejected", "accepted"]


def test_payment_without_bill_id_and_deep_nesting_are_400(api, city):
    assert call(api, "post", "/v1/pay/lx-nanchang-st-01/payments", body={"channel": "alipay"})[1]["code"] == "invalid_request"
    status, body = call(api, "post", "/v1/pay/lx-nanchang-st-01/payments", raw=b"[" * 100_000)
    assert (status, body["code"]) == (400, "invalid_json")


@pytest.mark.parametrize("limit", ["inf", "nan", "1e400", "-1", "0", "10.5", "1" * 40])
def test_unbounded_numbers_in_queries_are_400(api, city, limit):
    status, body = call(api, "get", f"/v1/lots?lat=31.5&lon=120.3&limit={limit}")
    assert (status, body["code"]) == (400, "bad_query")
    if limit in ("inf", "nan", "1e400", "1" * 40):
        assert call(api, "get", f"/v1/lots?lat={limit}&lon=120.3")[1]["code"] == "bad_coordinates"


def _sandbox_post(api, platform, clock, event) -> tuple[int, dict]:
    sandbox = platform.services.providers["sandbox"]
    raw = json.dumps(event).encode()
    sig = signed_callbacks.sign(sandbox.webhook_secret, raw, int(clock.now().timestamp()))
    return call(api, "post", "/v1/payments/callbacks/sandbox", {"X-Sandbox-Signature": sig}, raw=raw)


@pytest.mark.parametrize("event", [
    {"id": "e1", "type": "payment.succeeded", "created": 1e20, "data": {"ref": "x", "amount_fen": 1}},
    {"id": "e2", "type": "payment.succeeded", "created": 1_800_000_000, "data": {"ref": "x"}},
    {"id": "e3", "type": "payment.succeeded", "created": 1_800_000_000, "data": []},
    {"type": "payment.succeeded", "created": 1_800_000_000, "data": {"ref": "x", "amount_fen": 1}},
    {"id": "e4", "type": "refund.succeeded", "created": 1_800_000_000, "data": {"ref": "x"}},
    {"id": "e5", "type": "payment.succeeded", "created": 1_800_000_000, "data": {"ref": "x", "amount_fen": "1"}},
    [1, 2],
])
def test_malformed_signed_callbacks_are_400(api, platform, clock, city, event):
    status, body = _sandbox_post(api, platform, clock, event)
    assert status == 400 and body["code"] == "bad_payload", body


# --- Contract gaps ----------------------------------------------------------------------------------
def test_415_has_the_one_error_shape(api, city):
    resp = api.post("/v1/events", headers={"Content-Type": "text/plain"}, body=b"x")
    body = json.loads(resp.body)
    assert resp.status_code == 415 and body["code"] == "unsupported_media_type" and "Code" not in body


def test_lot_availability_always_has_updated_at_and_online(api, city):
    status, body = call(api, "get", "/v1/lots/xw-taihu-plaza")
    assert status == 200 and "updated_at" in body and "online" in body


@pytest.mark.parametrize("total", ["10", True, 10.5])
def test_counts_are_strictly_integers(device, clock, total):
    status, body = device("lx-in1").post({"event_id": "occ-1", "type": "occupancy", "lot_id": "lx-nanchang-st-01",
                                           "occurred_at": clock.now().isoformat(), "total": total, "free": 1})
    assert status == 400 and body["acks"][0]["status"] == "rejected"


def test_a_gate_camera_may_not_use_the_lot_system_route(device):
    status, body = device("lx-in1").post({"service_name": "car_in", "data": {}}, path="/v1/lot-systems/cn_common/events")
    assert (status, body["code"]) == (403, "adapter_needs_lot_system")


def test_expired_tokens_still_401(api, platform, clock, city):
    t = tokens.mint(platform.services.token_key(), subject="c", role=Role.CITY_ADMIN, now=clock.now(), ttl=timedelta(seconds=1))
    clock.advance(5)
    assert call(api, "get", "/v1/admin/lots", {"Authorization": f"Bearer {t}"})[1]["code"] == "token_expired"


def test_simulated_provider_secrets_are_per_stack_and_the_sandbox_only_where_no_money_moves(monkeypatch):
    from shared.adapters.payments import providers
    from shared.clock import ManualClock

    first, _ = providers.configured_providers(ManualClock())
    second, _ = providers.configured_providers(ManualClock())
    assert first["sandbox"].webhook_secret != second["sandbox"].webhook_secret
    assert first["etc"]._secret != second["etc"]._secret
    assert first["sandbox"].webhook_secret not in ("whsec_sandbox_local",)
    for stage in ("staging", "prod"):
        monkeypatch.setenv("TONGTING_STAGE", stage)
        with pytest.raises(RuntimeError, match="sandbox"):
            providers.configured_providers(ManualClock())


def test_mint_token_refuses_a_district_on_a_citizen_before_reading_the_key(monkeypatch, capsys):
    from tools import mint_token

    monkeypatch.setattr(mint_token, "admin_token_key", lambda: pytest.fail("the key was read"))
    with pytest.raises(SystemExit):
        mint_token.main(["--role", "citizen", "--sub", "x", "--district", LX])
    assert "neither a district nor an operator" in capsys.readouterr().err


def test_sandbox_fault_knobs_can_be_set_for_make_run(monkeypatch):
    from shared.adapters.payments import providers
    from shared.clock import ManualClock

    monkeypatch.setenv("TONGTING_SANDBOX_FAULTS", "duplicates=2,reverse_order=1,delay_s=30")
    built, _ = providers.configured_providers(ManualClock())
    assert (built["sandbox"].behaviour.duplicates, built["sandbox"].behaviour.reverse_order, built["sandbox"].behaviour.delay_s) == (2, True, 30.0)
    monkeypatch.setenv("TONGTING_SANDBOX_FAULTS", "explode=1")
    with pytest.raises(ValueError):
        providers.configured_providers(ManualClock())
