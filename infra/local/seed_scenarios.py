"""The demo city's service scenarios (issue 13): a hospital lot with appointment bookings and an open
hotline ticket, registered through the real services as a city admin."""

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
HOSPITAL_POLICY = {"slot_minutes": 60, "quota_per_slot": 20, "entry_before_min": 60, "entry_after_min": 30,
                   "default_stay_min": 180, "no_show_limit": 3, "no_show_lookback_days": 90, "restriction_days": 30}


def seed_scenarios(services: Services, tariff_ref: str | None = None) -> dict[str, dict]:
    """Register the hospital lot, its devices and booking policy, a booking and a hotline ticket; returns
    the new devices' credentials (as ``seed``)."""
    lot = {**HOSPITAL_LOT, "tariff_ref": tariff_ref}
    services.registry.register_lot(CITY_ADMIN, lot)
    credentials = {}
    for device in devices_for(lot):
        out = services.registry.register_device(CITY_ADMIN, device)
        credentials[device["device_id"]] = {"secret": out.secret, "lot_id": lot["lot_id"], "kind": device["kind"]}
    services.hospital.put_policy(CITY_ADMIN, lot["lot_id"], dict(HOSPITAL_POLICY))
    appointment = (services.clock.now() + timedelta(hours=2)).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    services.hospital.book(CITY_ADMIN, {"lot_id": lot["lot_id"], "plate": "苏B2H001", "appointment_at": appointment.isoformat()})
    services.hotline.record_call(CITY_ADMIN, {
        "category": "information", "description": "医院预约停车怎么取消？", "lot_id": lot["lot_id"],
        "contact_name": "李女士", "contact_phone": "13900001111",
    })  # fmt: skip
    return credentials
