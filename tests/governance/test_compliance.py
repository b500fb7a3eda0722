"""The smart-compliance checklist and rates (S14): pure evaluation, then on the stack through the route."""

from __future__ import annotations

import json

from shared import tokens
from shared.auth import Role
from shared.compliance.model import LotFacts, evaluate, rates
from tests.support import gate_event


def facts(lot_id, district="320213", ownership="state_owned", kind="enclosed", **changes):
    base = dict(lot_id=lot_id, district_code=district, ownership=ownership, kind=kind, devices_seen=2, online=True,
                comms_lost_open=False, unified_pay_code=True, tariff_registered=True, reports_absolute_counts=True)
    return LotFacts(**{**base, **changes})


def test_checklist_reasons_and_rates():
    results = [evaluate(f) for f in (
        facts("a"),
        facts("b", tariff_registered=False),
        facts("c", district="320214", ownership="social", online=False, comms_lost_open=True),
        facts("d", kind="on_street", reports_absolute_counts=False),
    )]
    assert results[1].reasons == ["pay_later_offered", "tariff_registered"]
    assert results[2].reasons == ["heartbeats_healthy"]
    assert results[3].compliant  # berth zones count from berth events
    out = rates(results)
    assert out["overall"] == {"lots": 4, "compliant": 2, "rate": 0.5}
    assert out["by_district"]["320214"] == {"lots": 1, "compliant": 0, "rate": 0.0}
    assert out["target_state_owned_enclosed"] == {"lots": 2, "compliant": 1, "rate": 0.5, "target_rate": 1.0, "met": False}
    assert [f["lot_id"] for f in out["failing"]] == ["b", "c"]


def test_compliance_route_scoped_by_district(api, stack, clock, city, device):
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    stack.run_due_schedules()

    def get(role, district=None, query="", operator=None):
        t = tokens.mint(stack.services.token_key(), subject="u", role=role, now=clock.now(), district_code=district,
                        operator_id=operator)
        return api.get(f"/v1/admin/compliance{query}", headers={"Authorization": f"Bearer {t}"})

    city_view = json.loads(get(Role.CITY_ADMIN).body)
    assert city_view["overall"]["lots"] == 3 and set(city_view["by_district"]) == {"320213", "320214"}
    failing = {f["lot_id"]: f["reasons"] for f in city_view["failing"]}
    assert "tariff_registered" in failing["lx-nanchang-st-01"]  # the test city registers no tariff
    assert "networked" in failing["xw-taihu-plaza"]  # nothing heard from it
    mine = json.loads(get(Role.DISTRICT_ADMIN, "320214").body)
    assert mine["district"] == "320214" and mine["overall"]["lots"] == 1
    assert get(Role.DISTRICT_ADMIN, "320214", "?district=320213").status_code == 403
    assert get(Role.OPERATOR, operator="wx-city-parking").status_code == 403
