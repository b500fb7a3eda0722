"""``Lot.scenario_policies``: a lot with a scenario policy is flagged before the policy is saved, the flag
survives the lot's edits, and an ordinary lot's entries and prices never consult the scenario stores (the
hot-path cost measured by ``bench/bench_cost.py``). On memory."""

from __future__ import annotations

from shared.auth import Role
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.scenarios.test_sharing import OFFER
from tests.support import CITY_ADMIN, gate_event, price_lot

LOT, OTHER = "lx-nanchang-st-01", "xw-taihu-plaza"


class Spy:
    """Counts the calls made to a store's methods."""

    def __init__(self, store, monkeypatch) -> None:
        self.calls: list[str] = []
        for name in [n for n in dir(store) if not n.startswith("_") and callable(getattr(store, n))]:
            real = getattr(store, name)
            monkeypatch.setattr(store, name, lambda *a, _real=real, _name=name, **kw: (self.calls.append(_name), _real(*a, **kw))[1])


def test_policies_and_offers_flag_their_lots_and_an_edit_keeps_the_flag(services, call, token, city):
    lots = services.registry.lots
    assert not lots.require(LOT).scenario_policies and not lots.require(OTHER).scenario_policies
    city_admin = token(Role.CITY_ADMIN)
    assert call("put", f"/v1/admin/lots/{OTHER}/charging-policy", city_admin, {"mode": "free"})[0] == 200
    assert lots.require(OTHER).scenario_policies
    assert call("post", "/v1/admin/sharing/offers", city_admin, OFFER)[0] == 201
    flagged = lots.require(LOT)
    assert flagged.scenario_policies
    edited = services.registry.update_lot(CITY_ADMIN, LOT, {**flagged.model_dump(mode="json"), "name": "改名", "scenario_policies": False})
    assert edited.scenario_policies and edited.name == "改名"  # kept by the platform, whatever the body says
    assert services.registry.flag_scenarios(LOT).version == edited.version  # set once: no new version


def test_an_ordinary_lot_never_asks_the_scenario_stores(services, device, clock, monkeypatch):
    price_lot(services, LOT, ZHUMADIAN_CLASS1)
    stores = services.stores
    spies = [Spy(store, monkeypatch) for store in (stores.bookings, stores.sharing, stores.charging)]
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    clock.advance(2.5 * 3600)
    ack = device("lx-out1").post(gate_event("exit", "苏B12345", clock.now()))[1]["acks"][0]
    assert ack["gate"]["amount_fen"] > 0
    assert [s.calls for s in spies] == [[], [], []]
    services.registry.flag_scenarios(LOT)  # the same stay in a flagged lot consults them
    clock.advance(60)
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    clock.advance(2.5 * 3600)
    device("lx-out1").post(gate_event("exit", "苏B12345", clock.now()))
    assert all(s.calls for s in spies)
