"""The demo city (``make run``) carries the scenarios: a hospital lot taking bookings, a shared lot, a
charging lot, a hotline ticket."""

from __future__ import annotations

from infra.local.seed import seed
from infra.local.seed_scenarios import CHARGING_LOT, HOSPITAL_LOT, SHARED_OFFER, seed_scenarios
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CITY_ADMIN


def test_the_demo_city_has_its_scenario_lots_and_a_hotline_ticket(stack, api):
    credentials = seed(stack.services.registry, tariffs=stack.services.tariffs)
    credentials |= seed_scenarios(stack.services, ZHUMADIAN_CLASS1.id)
    lot_id = HOSPITAL_LOT["lot_id"]
    assert credentials[f"{lot_id}-in1"]["lot_id"] == lot_id
    day = stack.clock.now().date().isoformat()
    slots = api.get(f"/v1/hospital/lots/{lot_id}/slots?date={day}")
    assert slots.status_code == 200
    assert sum(s["booked"] for s in slots.json_body["slots"]) == 1
    assert [t.lot_id for t in stack.services.hotline.queue(CITY_ADMIN)] == [lot_id]
    offer = api.get(f"/v1/sharing/offers/{SHARED_OFFER['offer_id']}").json_body
    assert (offer["free"], offer["district_code"]) == (60, "320211")
    assert stack.services.charging.sessions(CITY_ADMIN, CHARGING_LOT["lot_id"], day) == []
    assert credentials[f"{CHARGING_LOT['lot_id']}-sys"]["kind"] == "lot_system"
