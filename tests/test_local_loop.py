"""``make run`` delivers soon after a write, not only on its second: the API's local server and the payment
app call ``after_write`` once a write is answered (reads do not), and the background loop runs a pass as soon
as it is woken, whatever its tick (``infra/local/gateway.py``, ``payment_app.py``, ``loop.py``)."""

from __future__ import annotations

import http.client
import threading

from chalice import Chalice

from infra.local import loop, payment_app
from infra.local.gateway import api_server


def _answered(port: int, method: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = None if method == "GET" else b"{}"
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _serving(server) -> int:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server.server_address[1]


def test_the_api_server_calls_after_write_for_writes_only():
    app = Chalice("after-write")

    @app.route("/thing", methods=["GET", "POST", "PUT", "DELETE"])
    def thing():
        return {"ok": True}

    writes: list[int] = []
    server = api_server(app, "127.0.0.1", 0, after_write=lambda: writes.append(1)).server
    port = _serving(server)
    try:
        assert _answered(port, "GET", "/thing") == 200 and writes == []
        for method in ("POST", "PUT", "DELETE"):
            assert _answered(port, method, "/thing") == 200
        assert _answered(port, "POST", "/no-such-route") in (403, 404)  # refused, still answered: a wake costs a pass
    finally:
        server.shutdown()
        server.server_close()
    assert len(writes) == 4


def test_the_payment_app_calls_after_write_for_posts_only():
    writes: list[int] = []
    server = payment_app.serve({}, 0, after_write=lambda: writes.append(1))
    port = _serving(server)
    try:
        _answered(port, "GET", "/")
        assert writes == []
        _answered(port, "POST", "/no-such-form")
    finally:
        server.shutdown()
        server.server_close()
    assert writes == [1]


class _Stack:
    """What the loop calls on a stack: it counts the passes."""

    def __init__(self) -> None:
        self.passes = threading.Semaphore(0)
        self.services = type("Services", (), {"providers": {}})()

    def pump_streams(self) -> None:
        self.passes.release()

    def run_due_schedules(self) -> None:
        pass


def test_the_loop_runs_a_pass_as_soon_as_it_is_woken(monkeypatch):
    monkeypatch.setattr(loop, "TICK_S", 3600.0)  # its second never comes in this test: only a wake runs a pass
    stack, stop, wake = _Stack(), threading.Event(), threading.Event()
    args = (stack, stop, "http://127.0.0.1:9", None, wake)
    thread = threading.Thread(target=loop.background_loop, args=args, daemon=True)
    thread.start()
    try:
        assert not stack.passes.acquire(timeout=0.3)  # not woken: no pass
        wake.set()
        assert stack.passes.acquire(timeout=10)
        wake.set()
        assert stack.passes.acquire(timeout=10)  # and again on the next wake
    finally:
        stop.set()
        wake.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
