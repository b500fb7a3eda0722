"""A lot that keeps its legacy pay code (S9) reports the payments it took, so the platform never charges
the session twice: the report is applied to the car's bill once, and the exit then opens as paid."""

from __future__ import annotations

from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CITY_ADMIN, gate_event, price_lot

LOT = "jy-legacy-01"


def _legacy_lot(services):
    services.registry.register_lot(CITY_ADMIN, {
        "lot_id": LOT, "name": "江阴老系统停车场", "district_code": "320281", "operator_id": "wx-city-parking",
        "kind": "enclosed", "capacity": 80, "location": {"lat": 31.91, "lon": 120.28},
        "pay_codes": ["unified", "legacy"]})
    price_lot(services, LOT, ZHUMADIAN_CLASS1)
    secrets = {}
    for dev, lane in (("jy-in", "in-1"), ("jy-out", "out-1"), ("jy-sys", None)):
        kind = "lot_system" if lane is None else "gate_camera"
        secrets[dev] = services.registry.register_device(CITY_ADMIN, {"device_id": dev, "kind": kind, "lot_id": LOT, **({"lane": lane} if lane else {})}).secret
    return secrets


def test_a_reported_legacy_payment_settles_the_stay_once(platform, api, clock, city):
    from tests.conftest import DevicePoster

    secrets = _legacy_lot(platform.services)
    dev = {d: DevicePoster(api, clock, d, s) for d, s in secrets.items()}
    dev["jy-in"].post(gate_event("entry", "苏B77777", clock.now(), lot=LOT))
    clock.advance(hours=2)
    report = {"event_id": "legacy-tx-881", "type": "legacy_payment", "lot_id": LOT, "occurred_at": clock.now().isoformat(),
              "plate": "苏B77777", "plate_colour": "blue", "amount_fen": 500, "legacy_ref": "JY-POS-881"}
    status, body = dev["jy-sys"].post(report)
    assert status == 200 and body["acks"][0]["payment"]["outcome"] == "applied"
    status, again = dev["jy-sys"].post({**report, "event_id": "legacy-tx-881-resent"})  # same transaction, new event id
    assert again["acks"][0]["payment"]["outcome"] == "duplicate"

    clock.advance(minutes=5)
    _, out = dev["jy-out"].post(gate_event("exit", "苏B77777", clock.now(), lot=LOT))
    assert out["acks"][0]["gate"] == {"decision": "open", "amount_fen": 0, "reason": "paid"}
    bill = platform.services.billing.of_plate("苏B77777")[0]
    assert (bill.paid_fen, bill.balance_fen, bill.payments[0].startswith("pay_")) == (500, 0, True)
    assert platform.services.ledger.check() == []


def test_a_legacy_report_for_an_unknown_car_is_rejected_with_a_reason(platform, api, clock, city):
    from tests.conftest import DevicePoster

    secrets = _legacy_lot(platform.services)
    sys = DevicePoster(api, clock, "jy-sys", secrets["jy-sys"])
    status, body = sys.post({"event_id": "legacy-x", "type": "legacy_payment", "lot_id": LOT, "occurred_at": clock.now().isoformat(),
                             "plate": "苏B00001", "plate_colour": "blue", "amount_fen": 500, "legacy_ref": "JY-POS-1"})
    assert status == 400 and body["code"] == "no_bill_for_payment"


def test_a_lot_without_a_legacy_code_cannot_report_legacy_payments(platform, api, device, clock, city):
    status, body = device("lx-in1").post({"event_id": "l1", "type": "legacy_payment", "lot_id": "lx-nanchang-st-01",
                                          "occurred_at": clock.now().isoformat(), "plate": "苏B12345", "plate_colour": "blue",
                                          "amount_fen": 100, "legacy_ref": "X"})
    assert status == 400 and body["code"] == "event_not_supported_by_lot"
