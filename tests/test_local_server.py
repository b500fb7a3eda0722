"""The local server gives each request thread its own ``app.current_request`` (issue 15): under concurrent
requests no request reads another's headers. A bare ``chalice.local.LocalDevServer`` shares one request
object between its threads; this test failed on it with admin reads answering 401 token_missing."""

from __future__ import annotations

import http.client
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from shared import tokens
from shared.auth import Role


def _get(port: int, path: str, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_concurrent_requests_never_read_each_others_headers(stack, city, clock):
    from functions.api.app import app
    from infra.local.gateway import api_server

    server = api_server(app, "127.0.0.1", 0)
    port = server.server.server_address[1]
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    admin = {"Authorization": "Bearer " + tokens.mint(stack.services.token_key(), subject="c", role=Role.CITY_ADMIN, now=clock.now())}
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a shared request object shows within a few hundred requests
    try:
        def admin_read(_):
            return "admin", _get(port, "/v1/admin/lots/xw-taihu-plaza", admin)

        def public_read(_):
            return "public", _get(port, "/v1/lots/lx-nanchang-st-01", {})

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda n: (admin_read if n % 2 else public_read)(n), range(240)))
    finally:
        sys.setswitchinterval(switch)
        server.server.shutdown()
        server.server.server_close()
    wrong = [(who, status, body.get("code")) for who, (status, body) in results if status != 200]
    assert wrong == [], f"{len(wrong)} of {len(results)} requests saw another's request: {wrong[:5]}"
    assert all(body["lot_id"] == ("xw-taihu-plaza" if who == "admin" else "lx-nanchang-st-01") for who, (_, body) in results)
