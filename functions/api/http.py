"""The Chalice app object and what every route module shares: the route wrapper that maps domain errors
to HTTP errors in one place, by type (Chalice turns a view's exception into a 500 before any middleware
sees it, so the mapping wraps the views as they are registered), the bearer-token check, and the
parsing of bodies and query parameters.

Authentication is the app's own, not the gateway's: a route registered with ``authorizer=admin_token``
has its ``Authorization: Bearer <token>`` verified by the middleware below before Chalice dispatches
(so a refusal comes before a 415, as a gateway authorizer's did), and answered 401 with a
machine-readable code. No authorizer Lambda runs per request, and the local server, the test client
and AWS take the same path (issue 10: the API on an HTTP API, see bench/README.md).
"""

from __future__ import annotations

import functools
import json
import math
import re

from chalice import Chalice, Response

from functions.api.errors import error_response
from shared.auth import Principal
from shared.bootstrap import services
from shared.errors import (
    DomainError, Forbidden, InvalidInput, MethodNotAllowed, NotFound, PayloadTooLarge, Unauthenticated,
)
from shared.jsonbody import parse_json
from shared.observability import flush, logger
from shared.protocol.events import MAX_BODY_BYTES
from shared.tokens import verify_bearer


class TongtingApi(Chalice):
    """Chalice, also behind an HTTP API (API Gateway v2) with Lambda payload format 1.0.

    Chalice dispatches on ``requestContext.resourcePath``, the route's template. An HTTP API event names
    its route in ``requestContext.routeKey`` ("GET /v1/lots/{lot_id}", or "$default" for a request no
    route matched): the template is taken from there. A request for no route of ours (the HTTP API's
    ``$default`` route, or any unknown resource path) is answered 403 ``route_forbidden``, as the local
    gateway answers it, instead of Chalice's 405 for an unknown path (which also adds the path to the
    route table). A known path asked with a method it lacks reaches ``$default`` too: it is answered 405
    ``method_not_allowed``, as Chalice answers it locally."""

    def __call__(self, event, context):
        request_context = event.get("requestContext") or {}
        route_key = request_context.get("routeKey")
        if isinstance(route_key, str):
            method, _, path = route_key.partition(" ")
            request_context["resourcePath"] = path if method and path else None
        if request_context.get("resourcePath") not in self.routes:
            self.current_request = None
            allowed = self._methods_of(event.get("path"), request_context.get("stage"))
            error = (MethodNotAllowed(f"this resource answers {', '.join(allowed)} only")
                     if allowed else Forbidden("no such route", code="route_forbidden"))  # fmt: skip
            return error_response(error, request_context.get("requestId")).to_dict(self.api.binary_types)
        return super().__call__(event, context)

    def _methods_of(self, path: object, stage: object) -> list[str]:
        """The methods of the route whose template matches ``path`` (none: no route of ours). An HTTP API's
        path starts with its stage's name (``/api/v1/...``) unless it is reached through a custom domain."""
        if not isinstance(path, str) or len(path) > 2048:
            return []
        paths = [path, path.removeprefix(f"/{stage}")] if isinstance(stage, str) and stage else [path]
        for template, methods in self.routes.items():
            pattern = "[^/]+".join(map(re.escape, _PARAMETER.split(template)))
            if any(re.fullmatch(pattern, p) for p in paths):
                return sorted(methods)
        return []


_PARAMETER = re.compile(r"\{[^/}]+\}")


app = TongtingApi(app_name="tongting-api")
_PATH_PARAM = re.compile(r"[^\x00-\x20/\\\x7f]{1,128}")

# Chalice's own refusals (415, 405, 400, and the 500 of a view that crashed) answer {"Code", "Message"};
# the middleware below gives them the API's one error shape, {"code", "message"}.
CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequest": "bad_request",
    "InternalServerError": "internal_error",
}


@app.middleware("http")
def one_error_shape(event, get_response):
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        response = Response(
            body=json.dumps({"code": CHALICE_CODES.get(body["Code"], str(body["Code"]).lower()),
                             "message": str(body.get("Message", ""))}),
            status_code=response.status_code,
            headers={**response.headers, "Content-Type": "application/json; charset=utf-8"},
        )  # fmt: skip
    return response


def route(path: str, **options):
    """``app.route`` with the domain-error mapping and a correlation id per request. ``authorizer=admin_token``
    marks a route that needs a bearer token (checked by ``bearer_token``); no gateway authorizer is declared."""
    needs_token = options.pop("authorizer", None) is admin_token

    def register(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            request_id = (app.current_request.context or {}).get("requestId")
            logger.set_correlation_id(request_id)
            try:
                for name, value in kwargs.items():
                    if not _PATH_PARAM.fullmatch(value or ""):  # no id of ours looks like this: it does not exist
                        raise NotFound(f"no {name} {value[:40]!r}", code=f"unknown_{name.removesuffix('_id')}")
                return view(*args, **kwargs)
            except DomainError as error:
                logger.info("request refused", extra={"code": error.code, "path": path})
                return error_response(error, request_id)
            finally:
                flush()

        guarded.needs_token = needs_token
        return app.route(path, **options)(guarded)

    return register


def admin_token(authorization: str | None) -> Principal:
    """The principal of an ``Authorization: Bearer <token>`` header: a platform token (HS256, the stores'
    key) or a citizens' pool token. Refused with ``Unauthenticated`` and a code (token_missing,
    token_malformed, token_expired, ...). As ``authorizer=admin_token`` on a route: the route needs it."""
    token = (authorization or "").strip()
    if not token.startswith("Bearer "):
        raise Unauthenticated("Authorization: Bearer <token> is required", code="token_missing" if not token else "token_malformed")
    return verify_bearer(services().token_key(), token.removeprefix("Bearer ").strip(), now=services().clock.now(),
                         pool=services().stores.token_pool)


@app.middleware("http")
def bearer_token(event, get_response):
    """Verifies the bearer token of a route that needs one before the view runs (and before Chalice's
    content-type check); the principal is kept on the request for ``principal()``."""
    entry = app.routes.get(event.path, {}).get(event.method) if event is not None else None
    if entry is not None and getattr(entry.view_function, "needs_token", False):
        try:
            event._principal = admin_token(event.headers.get("authorization"))
        except Unauthenticated as error:
            return error_response(error, (event.context or {}).get("requestId"))
    return get_response(event)


def principal() -> Principal:
    """The caller, verified once per request (by ``bearer_token`` on a route that needs a token)."""
    request = app.current_request
    found = getattr(request, "_principal", None)
    if found is None:
        found = request._principal = admin_token(request.headers.get("authorization"))
    return found


def body() -> dict:
    raw = app.current_request.raw_body or b"null"
    if len(raw) > MAX_BODY_BYTES:  # no web ACL in front of the HTTP API: the app bounds what it parses
        raise PayloadTooLarge(f"body exceeds {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES)
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise InvalidInput("a JSON object body is required", code="invalid_json")
    return data


def query_float(name: str, default: float | None = None, low: float = -1e6, high: float = 1e6,
                code: str = "bad_query") -> float:
    """A finite number within [low, high] (``inf``, ``nan`` and ``1e400`` are refused, not carried into
    arithmetic); refused with ``code``."""
    raw = (app.current_request.query_params or {}).get(name)
    if raw is None:
        if default is None:
            raise InvalidInput(f"query parameter {name} is required", code="bad_query")
        return default
    try:
        value = float(raw) if len(raw) <= 32 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(f"query parameter {name} must be a number {low:g}..{high:g}", code=code)
    return value


def query_int(name: str, default: int, low: int, high: int) -> int:
    raw = (app.current_request.query_params or {}).get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        raise InvalidInput(f"query parameter {name} must be an integer {low}..{high}", code="bad_query")
    return int(raw)


DISTRICT, DATE, ID = r"[0-9]{6}", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", r"[^\x00-\x20/\\\x7f]{1,128}"


def query_text(name: str, pattern: str = ID, required: bool = False) -> str | None:
    """A query parameter matching ``pattern`` (a district code, a date, an id): bounded before any store
    sees it. Absent: None, or 400 if ``required``."""
    raw = (app.current_request.query_params or {}).get(name)
    if raw is None:
        if required:
            raise InvalidInput(f"query parameter {name} is required", code="bad_query")
        return None
    if len(raw) > 128 or not re.fullmatch(pattern, raw):
        raise InvalidInput(f"query parameter {name} is malformed", code="bad_query")
    return raw


def parsed(model, data: object, code: str = "invalid_request"):
    """``data`` through a strict pydantic request model: every field typed and bounded before a store sees it."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])), "error": e["msg"]} for e in exc.errors()[:10]]
        first = str(exc.errors()[0]["loc"][0]) if exc.errors() and exc.errors()[0]["loc"] else ""
        code = getattr(model, "error_codes", {}).get(first, code)  # a model may keep a field's own code
        raise InvalidInput(f"invalid {model.__name__}: {details[0]['field']}: {details[0]['error']}"[:300], code=code, errors=details) from None


def dump(model) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


