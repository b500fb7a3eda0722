"""The demo city (``make run``) carries the scenarios: a hospital lot taking bookings, a hotline ticket."""

from __future__ import annotations

from infra.local.seed import seed
from infra.local.seed_scenarios import HOSPITAL_LOT, seed_scenarios
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CITY_ADMIN


def test_the_demo_city_has_a_hospital_lot_with_bookings_and_a_hotline_ticket(stack, api):
    credentials = seed(stack.services.registry, tariffs=stack.services.tariffs)
    credentials |= seed_scenarios(stack.services, ZHUMADIAN_CLASS1.id)
    lot_id = HOSPITAL_LOT["lot_id"]
    assert credentials[f"{lot_id}-in1"]["lot_id"] == lot_id
    day = stack.clock.now().date().isoformat()
    slots = api.get(f"/v1/hospital/lots/{lot_id}/slots?date={day}")
    assert slots.status_code == 200
    assert sum(s["booked"] for s in slots.json_body["slots"]) == 1
    assert [t.lot_id for t in stack.services.hotline.queue(CITY_ADMIN)] == [lot_id]
