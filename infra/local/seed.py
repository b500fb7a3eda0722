"""The demo city: Wuxi's districts with operators, lots of every kind and their devices.

Registered through the real registry service as a city admin, so the demo exercises the same rules
as production. Device secrets are returned once and written to ``.local/devices.json`` for the CLI.
"""

from __future__ import annotations

import random

from shared.auth import Principal, Role
from shared.registry.model import DISTRICTS, LEGACY_PAY_CODE_REQUIRED
from shared.registry.service import RegistryService
from shared.tariffs.samples import HANGZHOU_ROAD_BERTH, ZHUMADIAN_CLASS1

CITY_ADMIN = Principal(subject="seed", role=Role.CITY_ADMIN)

# Approximate centres of each district (lat, lon).
CENTRES = {
    "320213": (31.5700, 120.2990),  # Liangxi
    "320214": (31.4900, 120.3600),  # Xinwu
    "320211": (31.5200, 120.2600),  # Binhu
    "320206": (31.6800, 120.2950),  # Huishan
    "320205": (31.6400, 120.3900),  # Xishan
    "320281": (31.9100, 120.2800),  # Jiangyin
    "320282": (31.3600, 119.8200),  # Yixing
}

OPERATORS = [
    ("wx-city-parking", "无锡城市停车管理有限公司", "91320200MA1XXXXX0A", "state_owned", "320213"),
    ("liangxi-gov-parking", "梁溪区机关事务停车场", "11320213MB0YYYYY1B", "government", "320213"),
    ("xinwu-hitech-parking", "新吴区高新停车运营有限公司", "91320214MA2PPPPP2C", "state_owned", "320214"),
    ("jiangyin-parking", "江阴市停车场管理有限公司", "91320281MA3WWWWW3D", "state_owned", "320281"),
    ("yixing-parking", "宜兴市静态交通有限公司", "91320282MA4RRRRR4E", "state_owned", "320282"),
    ("wanda-plaza-wuxi", "无锡万达广场商业管理有限公司", "91320200MA5UUUUU5F", "social", "320211"),
]


def _operator_for(district: str) -> str:
    return {"320213": "liangxi-gov-parking", "320214": "xinwu-hitech-parking", "320281": "jiangyin-parking",
            "320282": "yixing-parking", "320211": "wanda-plaza-wuxi"}.get(district, "wx-city-parking")


def demo_lots(per_district: int = 4, seed: int = 20251203) -> list[dict]:
    rng = random.Random(seed)
    lots = []
    for code, (lat, lon) in CENTRES.items():
        short = DISTRICTS[code].split()[0].lower()
        for n in range(per_district):
            on_street = n % 3 == 2
            lot_id = f"{short}-{'street' if on_street else 'lot'}-{n + 1:02d}"
            location = {"lat": round(lat + rng.uniform(-0.02, 0.02), 6), "lon": round(lon + rng.uniform(-0.02, 0.02), 6),
                        "address": f"{DISTRICTS[code].split()[1]} demo {n + 1}"}
            lot = {
                "lot_id": lot_id,
                "name": f"{DISTRICTS[code].split()[1]}{'路内泊位' if on_street else '停车场'}{n + 1}",
                "district_code": code,
                "operator_id": _operator_for(code),
                "location": location,
                "tariff_ref": None,
            }
            if on_street:
                berths = [f"{lot_id[:2].upper()}{n + 1}{b:03d}" for b in range(1, 21)]
                lot |= {"kind": "on_street", "capacity": len(berths), "berths": berths}
            else:
                lot |= {"kind": "enclosed", "capacity": rng.choice([80, 120, 200, 350, 600])}
                if code in LEGACY_PAY_CODE_REQUIRED:
                    lot["pay_codes"] = ["unified", "legacy"]
                if n == 1:
                    lot["opening_hours"] = {"always": False, "opens": "07:00:00", "closes": "22:00:00"}
            lots.append(lot)
    return lots


def devices_for(lot: dict) -> list[dict]:
    lot_id = lot["lot_id"]
    if lot["kind"] == "on_street":
        return [{"device_id": f"{lot_id}-robot", "kind": "berth_robot", "lot_id": lot_id},
                {"device_id": f"{lot_id}-pole", "kind": "video_pole_high", "lot_id": lot_id}]
    return [{"device_id": f"{lot_id}-in1", "kind": "gate_camera", "lot_id": lot_id, "lane": "in-1"},
            {"device_id": f"{lot_id}-out1", "kind": "gate_camera", "lot_id": lot_id, "lane": "out-1"},
            {"device_id": f"{lot_id}-sys", "kind": "lot_system", "lot_id": lot_id}]


def seed(registry: RegistryService, per_district: int = 4, tariffs=None) -> dict[str, dict]:
    """Register the demo city; returns device credentials {device_id: {secret, lot_id, kind}}. With a
    ``TariffService``, lots charge by sample tariffs: Zhumadian class 1 off-street, Hangzhou on-street."""
    if tariffs is not None:
        for tariff in (ZHUMADIAN_CLASS1, HANGZHOU_ROAD_BERTH):
            tariffs.put(CITY_ADMIN, tariff.id, {"tariff": tariff.model_dump(mode="json")})
    for operator_id, name, credit, ownership, district in OPERATORS:
        registry.register_operator(CITY_ADMIN, {"operator_id": operator_id, "name": name, "credit_code": credit,
                                                "ownership": ownership, "district_code": district,
                                                "payout_account_ref": f"acct_demo_{operator_id}"})
    credentials: dict[str, dict] = {}
    for lot in demo_lots(per_district):
        if tariffs is not None:
            lot["tariff_ref"] = (HANGZHOU_ROAD_BERTH if lot["kind"] == "on_street" else ZHUMADIAN_CLASS1).id
        registry.register_lot(CITY_ADMIN, lot)
        for device in devices_for(lot):
            out = registry.register_device(CITY_ADMIN, device)
            credentials[device["device_id"]] = {"secret": out.secret, "lot_id": lot["lot_id"], "kind": device["kind"]}
    for code in DISTRICTS:
        device_id = f"gateway-{code}"
        out = registry.register_device(CITY_ADMIN, {"device_id": device_id, "kind": "district_gateway", "district_code": code})
        credentials[device_id] = {"secret": out.secret, "lot_id": None, "kind": "district_gateway", "district_code": code}
    return credentials
