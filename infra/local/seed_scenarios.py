"""The demo city's service scenarios (issue 13): a hospital lot with appointment bookings, an office lot
shared off-peak, a lot with chargers and a charging policy, and an open hotline ticket, registered
through the real services as a city admin."""

from __future__ import annotations

from datetime import timedelta

from infra.local.seed import CITY_ADMIN, devices_for
from shared.bootstrap import Services
from shared.clock import SHANGHAI

HOSPITAL_LOT = {
    "lot_id": "liangxi-hospital-01", "name": "无锡市人民医院预约停车场", "district_code": "320213",
    "operator_id": "wx-city-parking", "kind": "enclosed", "capacity": 300,
    "location": {"lat": 31.5630, "lon": 120.2930, "address": "梁溪区清扬路299号 (demo)"},
}  # fmt: skip
SHARED_LOT = {
    "lot_id": "binhu-office-shared-01", "name": "滨湖区政务中心错时共享停车场", "district_code": "320211",
    "operator_id": "wanda-plaza-wuxi", "kind": "enclosed", "capacity": 150,
    "location": {"lat": 31.5150, "lon": 120.2650, "address": "滨湖区 (demo)"},
}  # fmt: skip
SHARED_OFFER = {
    "offer_id": "binhu-office-nights", "name": "政务中心夜间及周末共享车位", "lot_ids": [SHARED_LOT["lot_id"]],
    "spaces": 60, "monthly_fee_fen": 15000,
    "windows": [{"weekdays": [1, 2, 3, 4, 5], "start": "19:00", "end": "07:30"},
                {"weekdays": [6, 7], "start": "00:00", "end": "00:00"}],
}  # fmt: skip
CHARGING_LOT = {
    "lot_id": "xinwu-charging-01", "name": "新吴区充电停车一体化停车场", "district_code": "320214",
    "operator_id": "xinwu-hitech-parking", "kind": "enclosed", "capacity": 80,
    "location": {"lat": 31.4950, "lon": 120.3550, "address": "新吴区 (demo)"},
}  # fmt: skip
CHARGING_POLICY = {"mode": "free", "grace_minutes": 30, "idle_grace_minutes": 15, "idle_fee_fen_per_hour": 500}
HOSPITAL_POLICY = {"slot_minutes": 60, "quota_per_slot": 20, "entry_before_min": 60, "entry_after_min": 30,
                   "default_stay_min": 180, "no_show_limit": 3, "no_show_lookback_days": 90, "restriction_days": 30,
                   "booked_stay_fee_fen": 0}


def _register(services: Services, lot: dict, credentials: dict) -> None:
    services.registry.register_lot(CITY_ADMIN, lot)
    for device in devices_for(lot):  # the lot_system device also reports charging sessions
        out = services.registry.register_device(CITY_ADMIN, device)
        credentials[device["device_id"]] = {"secret": out.secret, "lot_id": lot["lot_id"], "kind": device["kind"]}


def seed_scenarios(services: Services, tariff_ref: str | None = None) -> dict[str, dict]:
    """Register the hospital, shared and charging lots with their devices and policies, a booking and a
    hotline ticket; returns the new devices' credentials (as ``seed``)."""
    credentials: dict[str, dict] = {}
    lot = {**HOSPITAL_LOT, "tariff_ref": tariff_ref}
    for each in (lot, {**SHARED_LOT, "tariff_ref": tariff_ref}, {**CHARGING_LOT, "tariff_ref": tariff_ref}):
        _register(services, each, credentials)
    services.sharing.create_offer(CITY_ADMIN, dict(SHARED_OFFER))
    services.charging.put_policy(CITY_ADMIN, CHARGING_LOT["lot_id"], dict(CHARGING_POLICY))
    services.hospital.put_policy(CITY_ADMIN, lot["lot_id"], dict(HOSPITAL_POLICY))
    appointment = (services.clock.now() + timedelta(hours=2)).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    services.hospital.book(CITY_ADMIN, {"lot_id": lot["lot_id"], "plate": "苏B2H001", "appointment_at": appointment.isoformat()})
    services.hotline.record_call(CITY_ADMIN, {
        "category": "information", "description": "医院预约停车怎么取消？", "lot_id": lot["lot_id"],
        "contact_name": "李女士", "contact_phone": "13900001111",
    })  # fmt: skip
    return credentials
