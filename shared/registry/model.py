"""Registry records. Each stored record is versioned: an update names the version it was based on."""

from __future__ import annotations

from datetime import time
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]

CITY_CODE = "320200"
DISTRICTS: dict[str, str] = {
    "320205": "Xishan 锡山区",
    "320206": "Huishan 惠山区",
    "320211": "Binhu 滨湖区",
    "320213": "Liangxi 梁溪区",
    "320214": "Xinwu 新吴区",
    "320281": "Jiangyin 江阴市",
    "320282": "Yixing 宜兴市",
}
# County-level cities whose lots must keep their legacy pay code beside the unified one (S9).
LEGACY_PAY_CODE_REQUIRED = frozenset({"320281", "320282"})

DistrictCode = Annotated[str, Field(pattern=r"^3202(05|06|11|13|14|81|82)$")]


class Ownership(str, Enum):
    GOVERNMENT = "government"
    STATE_OWNED = "state_owned"
    SOCIAL = "social"


class LotKind(str, Enum):
    ENCLOSED = "enclosed"  # off-street lot with gates
    ON_STREET = "on_street"  # berth zone


class PayCode(str, Enum):
    UNIFIED = "unified"
    LEGACY = "legacy"


class DeviceKind(str, Enum):
    GATE_CAMERA = "gate_camera"  # ANPR camera at a lane
    BERTH_ROBOT = "berth_robot"
    VIDEO_POLE_HIGH = "video_pole_high"
    VIDEO_POLE_LOW = "video_pole_low"
    GEOMAGNETIC = "geomagnetic"
    LOT_SYSTEM = "lot_system"  # a lot's own management system pushing for the whole lot
    DISTRICT_GATEWAY = "district_gateway"  # a district platform pushing for the lots it runs (S4)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(1, ge=1, description="Optimistic-lock version; updates must name the current one.")


class Operator(_Record):
    operator_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="Unified social credit code.")
    ownership: Ownership
    district_code: DistrictCode = Field(description="The district that registered the operator.")
    payout_account_ref: str = Field(min_length=1, max_length=128, description="e.g. a Stripe connected account id.")


class Location(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str = Field("", max_length=300)


class OpeningHours(BaseModel):
    """Local (Asia/Shanghai) opening hours; ``always`` for 24-hour lots."""

    always: bool = True
    opens: time | None = None
    closes: time | None = None

    @model_validator(mode="after")
    def _window(self) -> OpeningHours:
        if not self.always and (self.opens is None or self.closes is None):
            raise ValueError("opens and closes are required unless always is true")
        return self


class Lot(_Record):
    lot_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    district_code: DistrictCode
    operator_id: Identifier
    kind: LotKind
    capacity: int = Field(ge=1, le=100_000)
    berths: list[str] = Field(default_factory=list, description="On-street berth numbers.")
    location: Location
    opening_hours: OpeningHours = Field(default_factory=OpeningHours)
    tariff_ref: str | None = Field(None, max_length=64)
    pay_codes: list[PayCode] = Field(default_factory=lambda: [PayCode.UNIFIED])
    heartbeat_window_s: int = Field(600, ge=60, le=86_400, description="Silence longer than this = offline.")
    state_owned_enclosed_compliant: bool | None = None
    scenario_policies: bool = Field(False, description=(
        "Kept by the platform: the lot has (or had) a scenario policy (hospital bookings, charging, a shared-"
        "parking offer). Only then do the entry and the pricer consult the scenario stores."))

    @model_validator(mode="after")
    def _shape(self) -> Lot:
        if self.kind is LotKind.ON_STREET:
            if not self.berths:
                raise ValueError("an on-street lot lists its berth numbers")
            if len(set(self.berths)) != len(self.berths):
                raise ValueError("berth numbers must be unique")
            if len(self.berths) != self.capacity:
                raise ValueError("capacity of an on-street lot is its number of berths")
        elif self.berths:
            raise ValueError("only on-street lots have berths")
        if not self.pay_codes:
            raise ValueError("a lot accepts at least one pay code")
        return self


class Device(_Record):
    device_id: Identifier
    kind: DeviceKind
    lot_id: Identifier | None = Field(None, description="The lot the device writes for.")
    district_code: DistrictCode = Field(description="For a district gateway: the district whose lots it may push.")
    lane: str | None = Field(None, max_length=32)
    active: bool = True

    @model_validator(mode="after")
    def _scope(self) -> Device:
        if self.kind is DeviceKind.DISTRICT_GATEWAY:
            if self.lot_id is not None:
                raise ValueError("a district gateway is bound to a district, not a lot")
        elif self.lot_id is None:
            raise ValueError("a device is bound to a lot")
        return self

    def may_write_for(self, lot: Lot) -> bool:
        if not self.active:
            return False
        if self.kind is DeviceKind.DISTRICT_GATEWAY:
            return lot.district_code == self.district_code
        return lot.lot_id == self.lot_id


def events_allowed(lot: Lot) -> frozenset[str]:
    """Which protocol event types make sense for a lot of this kind."""
    common = {"occupancy", "heartbeat", "correction", "void"}  # correction, void: issue 11 (S16)
    if PayCode.LEGACY in lot.pay_codes:
        common.add("legacy_payment")
    if lot.kind is LotKind.ENCLOSED:
        return frozenset(common | {"entry", "exit", "charging_session"})  # charging_session: issue 13
    return frozenset(common | {"berth_start", "berth_end"})
