"""The OpenAPI 3.1 document of the HTTP API, built from the Chalice routes and the pydantic models,
so it cannot drift from the code: a route without an entry here fails a test."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from functions.api.me_requests import (
    DisputeRequest,
    OpenAccountRequest,
    PhoneLoginRequest,
    PayTogetherRequest,
    PlateRequest,
    SmsCodeRequest,
    VerifyPlateRequest,
)
from functions.api.staff_requests import ContactRequest, DisputeDecision, VersionRequest, WriteOffRequest
from shared.availability.model import LotAvailability
from shared.coupons.model import Coupon
from shared.protocol.events import AckResponse, EventBatch
from shared.registry.model import Device, Lot, Operator
from shared.registry.service import DeviceRegistration, DeviceWithSecret
from shared.sessions.model import ParkingSession
from shared.tariffs.registry import RegisteredTariff

DEVICE_SIGNED = [{"deviceSignature": []}]
ADMIN = [{"bearerToken": []}]

# (method, path) -> (summary, security, request model, response model)
OPERATIONS: dict[tuple[str, str], tuple[str, list | None, type[BaseModel] | None, type[BaseModel] | None]] = {
    ("POST", "/v1/events"): ("Post one protocol v1 event or a batch of up to 100", DEVICE_SIGNED, EventBatch, AckResponse),
    ("POST", "/v1/lot-systems/{adapter}/events"): ("Post a lot system's own push shape, mapped onto protocol v1", DEVICE_SIGNED, None, AckResponse),
    ("GET", "/v1/lots"): ("Lots with free spaces near a point, nearest first (lat, lon, radius_m, limit)", None, None, None),
    ("GET", "/v1/lots/{lot_id}"): ("Live availability of one lot", None, None, LotAvailability),
    ("GET", "/openapi.json"): ("This document", None, None, None),
    ("GET", "/health"): ("Liveness probe", None, None, None),
    # The citizens' web app (functions/api/web): static pages, and / sends a browser to finding parking
    ("GET", "/web/{name}"): ("A file of the citizens' web app (HTML, CSS, JS)", None, None, None),
    ("GET", "/"): ("Redirects to the web app's find-parking page", None, None, None),
    ("GET", "/v1/admin/districts"): ("The city's districts (GB/T 2260 codes)", ADMIN, None, None),
    ("POST", "/v1/admin/operators"): ("Register an operator", ADMIN, Operator, Operator),
    ("GET", "/v1/admin/operators"): ("Operators the caller may see", ADMIN, None, None),
    ("GET", "/v1/admin/operators/{operator_id}"): ("One operator", ADMIN, None, Operator),
    ("PUT", "/v1/admin/operators/{operator_id}"): ("Change an operator (body names the version it is based on)", ADMIN, Operator, Operator),
    ("POST", "/v1/admin/lots"): ("Register (备案) a lot", ADMIN, Lot, Lot),
    ("GET", "/v1/admin/lots"): ("Lots the caller may see (?district=)", ADMIN, None, None),
    ("GET", "/v1/admin/lots/{lot_id}"): ("One lot", ADMIN, None, Lot),
    ("PUT", "/v1/admin/lots/{lot_id}"): ("Change a lot (body names the version it is based on)", ADMIN, Lot, Lot),
    ("GET", "/v1/admin/lots/{lot_id}/status"): ("Live status with each device's last-seen time (staff)", ADMIN, None, LotAvailability),
    ("GET", "/v1/admin/lots/{lot_id}/devices"): ("A lot's devices", ADMIN, None, None),
    ("POST", "/v1/admin/devices"): ("Register a device; its secret is returned once", ADMIN, DeviceRegistration, DeviceWithSecret),
    ("GET", "/v1/admin/devices/{device_id}"): ("One device", ADMIN, None, Device),
    ("PUT", "/v1/admin/devices/{device_id}"): ("Change a device's lane or active flag", ADMIN, None, Device),
    ("POST", "/v1/admin/devices/{device_id}/rotate-secret"): ("Issue a new device secret (body names the version it is based on)", ADMIN, VersionRequest, DeviceWithSecret),
    ("GET", "/v1/admin/sessions/{session_id}"): ("One parking session (staff, district-scoped)", ADMIN, None, ParkingSession),
    # The one payment code
    ("GET", "/v1/lots/{lot_id}/quote"): ("Price a stay (entry, exit, plate, vehicle_class, plate_colour) with the lot's tariff", None, None, None),
    ("GET", "/v1/pay/{lot_id}"): ("The pay page of a lot's (?plate=) or lane's (?lane=) pay code: the car's bill, plate masked (a browser asking for text/html gets the web page)", None, None, None),
    ("POST", "/v1/pay/{lot_id}/payments"): ("Pay a bill: {bill_id, channel, coupon?}; returns the provider's next action URL", None, None, None),
    ("GET", "/v1/payments/{payment_id}"): ("A payment's state", None, None, None),
    ("POST", "/v1/payments/callbacks/{provider}"): ("Provider callbacks (stripe, sandbox, etc), verified by the provider's own signature scheme", None, None, None),
    ("PUT", "/v1/admin/tariffs/{tariff_id}"): ("Register or change a tariff: {district_code?, version?, tariff}", ADMIN, None, RegisteredTariff),
    ("GET", "/v1/admin/tariffs/{tariff_id}"): ("One tariff", ADMIN, None, RegisteredTariff),
    ("GET", "/v1/admin/tariffs"): ("Registered tariffs (?district=)", ADMIN, None, None),
    ("GET", "/v1/admin/lots/{lot_id}/pay-codes"): ("The URLs to print as the lot's and each lane's unified pay code (QR)", ADMIN, None, None),
    ("GET", "/v1/admin/bills/{bill_id}"): ("One bill (staff of its district, its operator)", ADMIN, None, None),
    ("POST", "/v1/bills/{bill_id}/payments"): ("Pay one bill by its id (arrears shown at an exit or in the service window)", None, None, None),
    # Citizens sign in by phone (issue 14)
    ("POST", "/v1/auth/sms-code"): ("Send a sign-in code to a mobile number: {phone}; returns the challenge", None, SmsCodeRequest, None),
    ("POST", "/v1/auth/token"): ("Exchange {phone, code, challenge} for a citizen token", None, PhoneLoginRequest, None),
    # The service window for citizens (bearer token of role citizen)
    ("POST", "/v1/me/account"): ("Open a service-window account: {consent}", ADMIN, OpenAccountRequest, None),
    ("GET", "/v1/me/account"): ("My account: plates, pay-later status, saved method, official notices", ADMIN, None, None),
    ("POST", "/v1/me/consent"): ("Consent to the current pay-later terms", ADMIN, None, None),
    ("POST", "/v1/me/pay-later/{verb}"): ("Pause, resume or withdraw pay-later (open bills stay owed)", ADMIN, None, None),
    ("POST", "/v1/me/plates"): ("Add a plate: a code goes to the phone on the vehicle's registration", ADMIN, PlateRequest, None),
    ("POST", "/v1/me/plates/verify"): ("Prove ownership of a plate with the code: {plate, code}", ADMIN, VerifyPlateRequest, None),
    ("POST", "/v1/me/plates/remove"): ("Remove a plate from my account: {plate}", ADMIN, PlateRequest, None),
    ("POST", "/v1/me/payment-method"): ("Save a payment method for off-session charges (a mandate)", ADMIN, None, None),
    ("GET", "/v1/me/bills"): ("Bills (newest first, a page at a time: ?limit=1-50, default 4; ?cursor= the previous page's next_cursor, null on the last page) and open arrears of my verified plates", ADMIN, None, None),
    ("POST", "/v1/me/bills/{bill_id}/disputes"): ("Dispute a bill: {reason, detail}", ADMIN, DisputeRequest, None),
    ("POST", "/v1/me/payments"): ("Pay several of my due bills of one operator with one payment: {bill_ids, channel}; applied to every bill at once", ADMIN, PayTogetherRequest, None),
    # Arrears and disputes (staff)
    ("GET", "/v1/admin/arrears"): ("The caller's collection queue: district staff their district, operators their lots", ADMIN, None, None),
    ("GET", "/v1/admin/arrears/{case_id}"): ("One arrears case with its evidence and history", ADMIN, None, None),
    ("POST", "/v1/admin/arrears/{case_id}/contacts"): ("Record a contact: {channel, outcome, note}", ADMIN, ContactRequest, None),
    ("POST", "/v1/admin/arrears/{case_id}/write-off"): ("Write a case off: {reason, approver}", ADMIN, WriteOffRequest, None),
    ("GET", "/v1/admin/disputes"): ("Disputes of the caller's district", ADMIN, None, None),
    ("POST", "/v1/admin/disputes/{bill_id}/resolve"): ("Decide a dispute: {decision: upheld|rejected, fair_amount_fen, note}", ADMIN, DisputeDecision, None),
    ("POST", "/v1/admin/coupons"): ("Create a coupon an operator funds: {code, operator_id?, lot_ids?, kind, amount_fen | percent (+max_off_fen?), min_due_fen?, valid_from, valid_until, max_redemptions, per_plate_limit?}", ADMIN, None, Coupon),
    ("GET", "/v1/admin/coupons/{code}"): ("One coupon with its redemption count (city staff, its operator)", ADMIN, None, Coupon),
    ("POST", "/v1/admin/coupons/{code}/deactivate"): ("Stop a coupon from applying (body names the version it is based on)", ADMIN, VersionRequest, Coupon),
    ("GET", "/v1/admin/ledger/check"): ("Prove the ledger balances: every posting sums to zero, balances match their lines", ADMIN, None, None),
    # The city's governance loop (issue 11)
    ("GET", "/v1/admin/settlements"): ("Daily settlement statements of an operator (?operator=&from=&to=); Accept: text/csv for CSV (UTF-8 with BOM)", ADMIN, None, None),
    ("GET", "/v1/admin/settlements/{statement_id}"): ("One statement with its check against the ledger; Accept: text/csv for CSV", ADMIN, None, None),
    ("GET", "/v1/admin/platform-fee"): ("The platform's service-fee books: its balance, each operator's fee owed (S10)", ADMIN, None, None),
    ("GET", "/v1/admin/platform-fee/{operator_id}/{half}"): ("One half year's fee statement of an operator (half: 2026H1)", ADMIN, None, None),
    ("GET", "/v1/admin/city-pushes"): ("Undelivered pushes to the city operation platform (?state=pending|dead)", ADMIN, None, None),
    ("GET", "/v1/admin/lots/{lot_id}/anomalies"): ("A lot's comms_lost / comms_restored anomalies with their flags (?days=30)", ADMIN, None, None),
    ("GET", "/v1/admin/compliance"): ("Smart-compliance rate per district and ownership, failing lots with reasons (?district=) (S14), and the hotline's ticket volume and on-time rate per district and operator (S8)", ADMIN, None, None),
    ("POST", "/v1/admin/city-pushes/{push_id}/requeue"): ("Retry an undelivered push at the next run, in its place", ADMIN, None, None),
}

# Query parameters described in full (the others are named in their summary)
QUERY = {
    ("GET", "/v1/me/bills"): [
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 4},
         "description": "Bills per page; anything else is a 400 bad_limit"},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
         "description": "Opaque: the next_cursor of the previous page; anything else is a 400 bad_cursor"},
    ],
}

# Success statuses other than 200: what each route's view answers.
CREATED = {
    ("POST", "/v1/admin/operators"), ("POST", "/v1/admin/lots"), ("POST", "/v1/admin/devices"),
    ("POST", "/v1/pay/{lot_id}/payments"), ("POST", "/v1/bills/{bill_id}/payments"), ("POST", "/v1/me/account"),
    ("POST", "/v1/me/payment-method"), ("POST", "/v1/me/bills/{bill_id}/disputes"), ("POST", "/v1/admin/coupons"),
}
CREATED |= {("POST", "/v1/auth/sms-code"), ("POST", "/v1/me/payments")}
ACCEPTED = {("POST", "/v1/me/plates")}

# Every 4xx, the gateway's own included (infra/cdk/api.py gateway responses, infra/local/gateway.py).
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "Machine-readable, e.g. token_missing, token_claims, role_forbidden, unknown_bill"},
        "message": {"type": "string"},
        "details": {"type": "object"},
        "request_id": {"type": "string"},
        "retry_after": {"type": "integer", "description": "429 only: seconds until the caller may ask again"},
        "acks": {"type": "array", "description": "POST /v1/events with one rejected event: its acknowledgement"},
    },
}


def _status(method: str, path: str) -> str:
    return "201" if (method, path) in CREATED else "202" if (method, path) in ACCEPTED else "200"


def document(app) -> dict:
    models = {m for op in OPERATIONS.values() for m in op[2:] if m is not None}
    refs, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                    ref_template="#/components/schemas/{model}")
    paths: dict[str, dict] = {}
    for path, methods in sorted(app.routes.items()):
        for method in methods:
            summary, security, request, response = OPERATIONS[(method, path)]
            op: dict = {
                "summary": summary,
                "operationId": methods[method].view_name,
                "responses": {
                    _status(method, path): {
                        "description": "OK",
                        "content": {"application/json": {"schema": refs[(response, "validation")] if response else {"type": "object"}}},
                    },
                    "4XX": {"description": "Refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            params = [{"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                      for p in path.split("/") if p.startswith("{")]
            params += QUERY.get((method, path), [])
            if params:
                op["parameters"] = params
            if security is not None:
                op["security"] = security
            if request is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[(request, "validation")]}}}
            paths.setdefault(path, {})[method.lower()] = op
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tongting 通停通付 API", "version": "1.0.0",
                 "description": "Wuxi city parking platform: protocol v1 for devices, public availability, admin registry."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "deviceSignature": {"type": "apiKey", "in": "header", "name": "X-Signature",
                                    "description": "HMAC-SHA256 of timestamp\\nnonce\\nsha256(body) with X-Device-Id, X-Timestamp, X-Nonce"},
            },
        },
    }
