"""The Chalice app object and what every route module shares: the route wrapper that maps domain errors
to HTTP errors in one place, by type (Chalice turns a view's exception into a 500 before any middleware
sees it, so the mapping wraps the views as they are registered), the bearer-token authorizer, and the
parsing of bodies and query parameters.
"""

from __future__ import annotations

import functools
import json

from chalice import AuthResponse, Chalice

from functions.api.errors import error_response
from shared.auth import Principal
from shared.bootstrap import services
from shared.errors import DomainError, InvalidInput, Unauthenticated
from shared.observability import flush, logger
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


def dump(model) -> dict:
    return model.model_dump(mode="json", exclude_none=True)


