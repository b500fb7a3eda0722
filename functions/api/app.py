"""The HTTP API (Chalice): device events, public availability, the admin registry.

Each route parses its input, calls one service and shapes the output. Domain errors become HTTP
errors in one place, ``route`` below, by type (Chalice turns a view's exception into a 500 before any
middleware sees it, so the mapping wraps the views as they are registered).
"""

from __future__ import annotations

import functools
import json

from chalice import AuthResponse, Chalice

from functions.api import openapi
from functions.api.errors import error_response, json_response
from shared.auth import Principal
from shared.bootstrap import services
from shared.errors import DomainError, InvalidInput, Unauthenticated
from shared.observability import flush, logger
from shared.registry.model import CITY_CODE, DISTRICTS
from shared.tokens import principal_from_claims, verify

app = Chalice(app_name="tongting-api")


def route(path: str, **options):
    """``app.route`` with the domain-error mapping and a correlation id per request."""

    def register(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            request_id = (app.current_request.context or {}).get("requestId")
            logger.set_correlation_id(request_id)
            try:
                return view(*args, **kwargs)
            except DomainError as error:
                logger.info("request refused", extra={"code": error.code, "path": path})
                return error_response(error, request_id)
            finally:
                flush()

        return app.route(path, **options)(guarded)

    return register


@app.authorizer()
def admin_token(auth_request):
    """Verifies the bearer token. An invalid token still reaches the app, which answers 401 with a
    machine-readable code (API Gateway's own 401 carries none)."""
    token = (auth_request.token or "").removeprefix("Bearer ").strip()
    try:
        principal = verify(services().token_key(), token, now=services().clock.now())
    except Unauthenticated as error:
        return AuthResponse(routes=["*"], principal_id="anonymous", context={"auth_error": error.code, "auth_message": error.message})
    context = {"sub": principal.subject, "role": principal.role.value}
    if principal.district_code:
        context["district"] = principal.district_code
    if principal.operator_id:
        context["operator"] = principal.operator_id
    return AuthResponse(routes=["*"], principal_id=principal.subject, context=context)


def principal() -> Principal:
    ctx = app.current_request.context.get("authorizer") or {}
    if "auth_error" in ctx:
        raise Unauthenticated(ctx.get("auth_message", "bad token"), code=ctx["auth_error"])
    if "role" not in ctx:
        raise Unauthenticated("a bearer token is required", code="token_missing")
    return principal_from_claims(ctx)


def body() -> dict:
    try:
        data = json.loads(app.current_request.raw_body or b"null")
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise InvalidInput("a JSON object body is required", code="invalid_json")
    return data


def query_float(name: str, default: float | None = None) -> float:
    raw = (app.current_request.query_params or {}).get(name)
    if raw is None:
        if default is None:
            raise InvalidInput(f"query parameter {name} is required", code="bad_query")
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"query parameter {name} must be a number", code="bad_query") from None


def _dump(model) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


# Devices and lot systems (protocol v1)
@route("/v1/events", methods=["POST"], content_types=["application/json"])
def post_events():
    req = app.current_request
    result = services().ingest.handle(req.headers, req.raw_body or b"")
    acks = [_dump(a) for a in result.acks]
    if result.single and result.acks[0].status.value == "rejected":
        ack = result.acks[0]
        return json_response({"code": ack.reason, "message": ack.message, "acks": acks}, 400)
    return json_response({"acks": acks})


@route("/v1/lot-systems/{adapter}/events", methods=["POST"], content_types=["application/json"])
def post_lot_system_events(adapter):
    req = app.current_request
    result = services().ingest.handle(req.headers, req.raw_body or b"", adapter=adapter)
    return json_response({"acks": [_dump(a) for a in result.acks]})


# Public service window
@route("/v1/lots", methods=["GET"])
def nearby_lots():
    lat, lon = query_float("lat"), query_float("lon")
    radius = query_float("radius_m", 2000)
    limit = int(query_float("limit", 50))
    lots = services().availability.nearby(lat, lon, radius, limit)
    return json_response({"lots": [_dump(v) for v in lots]})


@route("/v1/lots/{lot_id}", methods=["GET"])
def lot_availability(lot_id):
    return json_response(_dump(services().availability.lot(lot_id)))


@route("/openapi.json", methods=["GET"])
def openapi_document():
    return json_response(openapi.document(app))


@route("/health", methods=["GET"])
def health():
    return json_response({"status": "ok"})


# Admin registry (备案): city staff anywhere, district staff in their district
@route("/v1/admin/districts", methods=["GET"], authorizer=admin_token)
def list_districts():
    principal()
    return json_response({"city": CITY_CODE, "districts": [{"code": c, "name": n} for c, n in DISTRICTS.items()]})


@route("/v1/admin/operators", methods=["POST"], authorizer=admin_token)
def register_operator():
    return json_response(_dump(services().registry.register_operator(principal(), body())), 201)


@route("/v1/admin/operators", methods=["GET"], authorizer=admin_token)
def list_operators():
    return json_response({"operators": [_dump(o) for o in services().registry.list_operators(principal())]})


@route("/v1/admin/operators/{operator_id}", methods=["GET"], authorizer=admin_token)
def get_operator(operator_id):
    return json_response(_dump(services().registry.get_operator(principal(), operator_id)))


@route("/v1/admin/operators/{operator_id}", methods=["PUT"], authorizer=admin_token)
def update_operator(operator_id):
    return json_response(_dump(services().registry.update_operator(principal(), operator_id, body())))


@route("/v1/admin/lots", methods=["POST"], authorizer=admin_token)
def register_lot():
    return json_response(_dump(services().registry.register_lot(principal(), body())), 201)


@route("/v1/admin/lots", methods=["GET"], authorizer=admin_token)
def list_lots():
    district = (app.current_request.query_params or {}).get("district")
    return json_response({"lots": [_dump(lot) for lot in services().registry.list_lots(principal(), district)]})


@route("/v1/admin/lots/{lot_id}", methods=["GET"], authorizer=admin_token)
def get_lot(lot_id):
    return json_response(_dump(services().registry.get_lot(principal(), lot_id)))


@route("/v1/admin/lots/{lot_id}", methods=["PUT"], authorizer=admin_token)
def update_lot(lot_id):
    return json_response(_dump(services().registry.update_lot(principal(), lot_id, body())))


@route("/v1/admin/lots/{lot_id}/status", methods=["GET"], authorizer=admin_token)
def supervised_lot_status(lot_id):
    return json_response(_dump(services().availability.supervised(principal(), lot_id)))


@route("/v1/admin/lots/{lot_id}/devices", methods=["GET"], authorizer=admin_token)
def list_lot_devices(lot_id):
    return json_response({"devices": [_dump(d) for d in services().registry.list_devices(principal(), lot_id)]})


@route("/v1/admin/devices", methods=["POST"], authorizer=admin_token)
def register_device():
    return json_response(_dump(services().registry.register_device(principal(), body())), 201)


@route("/v1/admin/devices/{device_id}", methods=["GET"], authorizer=admin_token)
def get_device(device_id):
    return json_response(_dump(services().registry.get_device(principal(), device_id)))


@route("/v1/admin/devices/{device_id}", methods=["PUT"], authorizer=admin_token)
def update_device(device_id):
    return json_response(_dump(services().registry.update_device(principal(), device_id, body())))


@route("/v1/admin/devices/{device_id}/rotate-secret", methods=["POST"], authorizer=admin_token)
def rotate_device_secret(device_id):
    version = body().get("version")
    if not isinstance(version, int):
        raise InvalidInput("version (the one this rotation is based on) is required", code="version_required")
    return json_response(_dump(services().registry.rotate_secret(principal(), device_id, version)))


@route("/v1/admin/sessions/{session_id}", methods=["GET"], authorizer=admin_token)
def get_session(session_id):
    return json_response(_dump(services().sessions.view(principal(), session_id)))
