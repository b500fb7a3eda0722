"""Who may see and do what: one rule per resource, in the domain, whatever issued the caller's token.

Single reads and lists use the same predicate (``may_read_*``), so a list never shows what a read of the
same record would refuse. Two ways to say no:

- Records with personal data (bills, sessions, arrears cases, disputes): a record the caller may not see
  answers exactly as a record that does not exist (404 with the same code), so ids cannot be probed.
- Registry records (operators, lots, devices, coupons, tariffs), whose existence is public anyway (the
  availability map lists every lot): 403 with a code.

A role that never sees a kind of record (a citizen on the staff routes) is refused before any record is
read: 403 ``role_forbidden``, the same whether or not the id exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.auth import DISTRICT_ROLES, Principal, Role
from shared.errors import Forbidden, NotFound

STAFF_ROLES = (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM, Role.OPERATOR)
ALL_DISTRICTS = "*"


def require_role(principal: Principal, *roles: Role, what: str = "this") -> None:
    if principal.role not in roles:
        raise Forbidden(f"{principal.role.value} may not use {what}", code="role_forbidden")


def require_staff(principal: Principal, what: str = "the staff routes") -> None:
    require_role(principal, *STAFF_ROLES, what=what)


def district_scope(principal: Principal, asked: str | None = None) -> str | None:
    """The district a district-scoped list shows: ``asked`` (or every district, ``None``) for city-wide
    roles, the caller's own district for district roles. Operators and citizens have no district scope."""
    if principal.is_city:
        return asked
    if principal.role in DISTRICT_ROLES:
        if asked and asked != principal.district_code:
            raise Forbidden(f"{principal.subject} may not list district {asked}", code="district_forbidden")
        return principal.district_code
    raise Forbidden(f"{principal.role.value} has no district scope", code="role_forbidden")


def sees_district(principal: Principal, district_code: str) -> bool:
    return principal.can_read_district(district_code)


def is_operator(principal: Principal, operator_id: str | None) -> bool:
    return principal.role is Role.OPERATOR and operator_id is not None and principal.operator_id == operator_id


# Registry
def may_read_lot(principal: Principal, lot) -> bool:
    return sees_district(principal, lot.district_code) or is_operator(principal, lot.operator_id)


def may_read_operator(principal: Principal, operator, lot_districts: Iterable[str]) -> bool:
    """District staff see an operator registered in their district or running a lot there."""
    if principal.is_city or is_operator(principal, operator.operator_id):
        return True
    return principal.role in DISTRICT_ROLES and principal.district_code in {operator.district_code, *lot_districts}


def require_operator_change(principal: Principal, operator, lot_districts: Iterable[str]) -> None:
    """City admins any operator; district staff only an operator whose registration and every lot are in
    their own district (an operator that works in several districts is the city's to change)."""
    if principal.role is Role.CITY_ADMIN:
        return
    home = principal.district_code
    if principal.role in DISTRICT_ROLES and operator.district_code == home and set(lot_districts) <= {home}:
        return
    raise Forbidden(f"{principal.role.value} {principal.subject} may not change operator {operator.operator_id}",
                    code="district_forbidden")  # fmt: skip


def may_read_device(principal: Principal, device, lot_operator: str | None) -> bool:
    return sees_district(principal, device.district_code) or is_operator(principal, lot_operator)


# Reference data every staff role reads, whatever its district: the tariff register (a tariff is posted at
# every lot that uses it) and the city's districts. Citizens and strangers get 403 role_forbidden.
def require_tariff_read(principal: Principal) -> None:
    require_staff(principal, "the tariff register")


def require_district_list_read(principal: Principal) -> None:
    require_staff(principal, "the district list")


# Money and sessions: invisible is absent
def may_read_bill(principal: Principal, bill) -> bool:
    return sees_district(principal, bill.district_code) or is_operator(principal, bill.operator_id)


def may_read_session(principal: Principal, session) -> bool:
    return sees_district(principal, session.district_code) or is_operator(principal, getattr(session, "operator_id", None))


def may_read_case(principal: Principal, case) -> bool:
    """Operators see their lots' cases only once handed over to them for collection (S7), as their queue."""
    return sees_district(principal, case.district_code) or (is_operator(principal, case.operator_id) and case.handed_over)


def may_act_on_case(principal: Principal, case) -> bool:
    """Contacts and write-offs: city admins, district admins of the case's district; operators record
    contacts on cases handed over to them (checked by the caller with ``may_read_case``)."""
    return principal.role is Role.CITY_ADMIN or (principal.role is Role.DISTRICT_ADMIN and principal.district_code == case.district_code)


def may_read_dispute(principal: Principal, dispute) -> bool:
    if principal.is_citizen:
        return dispute.account_id == principal.subject
    return sees_district(principal, dispute.district_code) or is_operator(principal, dispute.operator_id)


def require_visible(visible: bool, what: str, key: str, code: str) -> None:
    """Refuse an invisible record as if it did not exist."""
    if not visible:
        raise NotFound(f"{what} {key} does not exist", code=code)
