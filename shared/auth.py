"""Who may see and do what. Enforced here, in the domain, whatever issued the caller's token."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel

from shared.errors import Forbidden


class Role(str, Enum):
    CITY_ADMIN = "city_admin"  # city staff: anywhere
    DISTRICT_ADMIN = "district_admin"  # district staff: only their district
    DISTRICT_PLATFORM = "district_platform"  # a district's own platform using the standard access (S4)
    OPERATOR = "operator"  # a lot operator: only its own lots, read-only in the registry
    AUDITOR = "auditor"  # read-only, city-wide
    CITIZEN = "citizen"  # a service-window account: only its own vehicles' bills


class Principal(BaseModel):
    subject: str
    role: Role
    district_code: str | None = None
    operator_id: str | None = None

    @property
    def is_citizen(self) -> bool:
        return self.role is Role.CITIZEN

    @property
    def is_city(self) -> bool:
        return self.role in (Role.CITY_ADMIN, Role.AUDITOR)

    def can_read_district(self, district_code: str) -> bool:
        return self.is_city or self.district_code == district_code

    def require_district_write(self, district_code: str) -> None:
        """Registering and changing records: city admins anywhere, district staff and platforms at home."""
        if self.role is Role.CITY_ADMIN:
            return
        if self.role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM) and self.district_code == district_code:
            return
        raise Forbidden(
            f"{self.role.value} {self.subject} may not change records of district {district_code}",
            code="district_forbidden",
        )

    def require_read(self, district_code: str, operator_id: str | None = None) -> None:
        if self.can_read_district(district_code):
            return
        if self.role is Role.OPERATOR and operator_id is not None and operator_id == self.operator_id:
            return
        raise Forbidden(f"{self.subject} may not read records of district {district_code}", code="district_forbidden")
