"""The local stand-in for the payer's phone and the providers' servers (``make run`` only).

- ``GET  http://127.0.0.1:8001/pay/<ref>``          the sandbox intent a pay code's ``next_action_url`` opens
- ``POST http://127.0.0.1:8001/pay/<ref>/approve``  the payer confirms in their app (``/decline`` refuses)
- ``POST http://127.0.0.1:8001/etc/<ref>/<result>`` the ETC issuer answers a deduction (success | failure)
The sandbox's and the issuer's queued callbacks are posted, signed, to the API's callback endpoints, as the
providers' own servers would, by ``deliver_callbacks`` (the run loop calls it every second).
"""

from __future__ import annotations

import json
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.errors import DomainError


def _poster(api_base: str, provider: str):
    def post(headers: dict, body: bytes) -> None:
        req = urllib.request.Request(f"{api_base}/v1/payments/callbacks/{provider}", data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    return post


def deliver_callbacks(providers: dict, api_base: str) -> int:
    sent = providers["sandbox"].deliver(_poster(api_base, "sandbox")) if "sandbox" in providers else 0
    if "etc" in providers:
        sent += providers["etc"].issuer.deliver(_poster(api_base, "etc"))
    return sent


def serve(providers: dict, port: int) -> ThreadingHTTPServer:
    sandbox, issuer = providers.get("sandbox"), providers["etc"].issuer if "etc" in providers else None

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body, ensure_ascii=False, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            try:
                if parts[:1] == ["pay"] and len(parts) == 2 and method == "GET":
                    return self._answer(200, sandbox.payment(parts[1]).model_dump(mode="json"))
                if parts[:1] == ["pay"] and len(parts) == 3 and parts[2] in ("approve", "decline") and method == "POST":
                    done = sandbox.approve(parts[1]) if parts[2] == "approve" else sandbox.decline(parts[1])
                    return self._answer(200, done.model_dump(mode="json"))
                if parts[:1] == ["etc"] and len(parts) == 3 and parts[2] in ("success", "failure") and method == "POST":
                    issuer.resolve(parts[1], success=parts[2] == "success")
                    return self._answer(200, {"resolved": parts[1]})
            except DomainError as error:
                return self._answer(400, error.as_dict())
            return self._answer(404, {"code": "not_found", "message": "see infra/local/payment_app.py"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def log_message(self, *args) -> None:
            return None

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
