"""The local stand-in for API Gateway's own refusals, in the API's one error shape.

Chalice's local gateway answers a route it does not know (403) before the app runs, with a body of its own
(``{"message": ...}``); no route declares an authorizer (the app verifies bearer tokens itself), so that is
the only one left. In AWS the HTTP API sends such a request to the app through its ``$default`` route and
the app answers the same code (``functions/api/http.py``, ``TongtingApi``). Here the local server's
request handler and the test client reshape it, so every 4xx carries ``code`` and ``message``.

The local server is built by ``api_server`` with Chalice's ``create_local_server``, which gives every
request thread its own ``app.current_request`` (a bare ``LocalDevServer`` shares one between threads, and
a request could read another's headers).
"""

from __future__ import annotations

import json
from typing import Callable

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

# (code, message) per local gateway exception: what the app answers in AWS for the same request
GATEWAY_ERRORS: dict[type, tuple[str, str]] = {
    ForbiddenError: ("route_forbidden", "no such route"),
}


def shaped(error: LocalGatewayException) -> tuple[int, dict, bytes]:
    code, message = GATEWAY_ERRORS.get(type(error), ("gateway_error", "refused by the gateway"))
    headers = {k: v for k, v in (error.headers or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    return error.CODE, headers, json.dumps({"code": code, "message": message}).encode()


class ShapedRequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        self._send_http_response(*shaped(error))


def api_server(app, host: str, port: int, stage: str = "local",
               after_write: Callable[[], None] | None = None) -> LocalDevServer:
    """Chalice's ``create_local_server`` (thread-local current_request), with gateway refusals reshaped;
    ``after_write`` is called once a PUT, POST, DELETE or PATCH is answered (``make run``'s loop then
    delivers what it queued without waiting for its next second)."""
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    handler = ShapedRequestHandler
    if after_write:
        class handler(ShapedRequestHandler):  # noqa: N801
            def _write_handle(self) -> None:
                try:
                    self._generic_handle()
                finally:
                    after_write()

            # chalice binds every do_<METHOD> to its _generic_handle: the writes are rebound, reads stay as they are
            do_PUT = do_POST = do_DELETE = do_PATCH = _write_handle
    return LocalDevServer(app, Config(chalice_stage=stage), host, port, handler_cls=handler)


def shape_test_client(http_client):
    """``chalice.test`` Client's HTTP client, answering gateway refusals in the same shape."""
    from chalice.test import HTTPResponse

    def error_response(error: LocalGatewayException):
        status, headers, body = shaped(error)
        return HTTPResponse(headers=headers, body=body, status_code=status)

    http_client._error_response = error_response
    return http_client
