"""Who may see and do what. Enforced here, in the domain, whatever issued the caller's token."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, model_validator

from shared.errors import Forbidden


class Role(str, Enum):
    CITY_ADMIN = "city_admin"  # city staff: anywhere
    DISTRICT_ADMIN = "district_admin"  # district staff: only their district
    DISTRICT_PLATFORM = "district_platform"  # a district's own platform using the standard access (S4)
    OPERATOR = "operator"  # a lot operator: only its own lots, read-only in the registry
    AUDITOR = "auditor"  # read-only, city-wide
    CITIZEN = "citizen"  # a service-window account: only its own vehicles' bills


DISTRICT_ROLES = (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM)


class Principal(BaseModel):
    """Who is calling. A district only on district roles, an operator only on operators, each where its
    role needs it: a principal that would carry scope its role does not have cannot be built."""

    model_config = ConfigDict(frozen=True)
    subject: str
    role: Role
    district_code: str | None = None
    operator_id: str | None = None

    @model_validator(mode="after")
    def _scope_fits_role(self) -> Principal:
        if (self.district_code is not None) != (self.role in DISTRICT_ROLES):
            raise ValueError(f"a {self.role.value} {'needs' if self.role in DISTRICT_ROLES else 'has no'} district")
        if (self.operator_id is not None) != (self.role is Role.OPERATOR):
            raise ValueError(f"a {self.role.value} {'needs' if self.role is Role.OPERATOR else 'has no'} operator")
        return self

    @property
    def is_citizen(self) -> bool:
        return self.role is Role.CITIZEN

    @property
    def is_city(self) -> bool:
        return self.role in (Role.CITY_ADMIN, Role.AUDITOR)

    def can_read_district(self, district_code: str) -> bool:
        """City-wide roles anywhere; district roles at home. Nobody else by a district claim."""
        return self.is_city or (self.role in DISTRICT_ROLES and self.district_code == district_code)

    def require_district_write(self, district_code: str) -> None:
        """Registering and changing records: city admins anywhere, district staff and platforms at home."""
        if self.role is Role.CITY_ADMIN:
            return
        if self.role in DISTRICT_ROLES and self.district_code == district_code:
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
