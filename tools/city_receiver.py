"""A stand-in for the city operation platform's push endpoint, for tests and ``make run``.

It verifies each push's signature (as the platform would, with the shared key), keeps the first copy of
each idempotency key, and can be told to misbehave: ``drop`` (close the connection unanswered),
``slow`` (answer after the client gave up), ``500``; then ``ok``. Standard library only, bound to
127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.protocol import signing


class Receiver:
    def __init__(self, secret: str, port: int = 0, slow_s: float = 1.0) -> None:
        self.secret, self.slow_s = secret, slow_s
        self.script: list[str] = []  # behaviours for the next requests; empty: ok
        self.received: list[dict] = []  # first copy of each key, in arrival order
        self.deliveries: list[str] = []  # every request's key, duplicates included
        self.bad_signatures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                """What arrived so far (first copy per key), newest last: to see the pushes of ``make run``."""
                with receiver._lock:
                    body = json.dumps({"received": receiver.received[-200:], "deliveries": len(receiver.deliveries),
                                       "bad_signatures": receiver.bad_signatures}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    act = receiver.script.pop(0) if receiver.script else "ok"
                if act == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if act == "slow":
                    time.sleep(receiver.slow_s)
                if act == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                h = self.headers
                if not signing.verify(receiver.secret, h.get(signing.HEADER_TIMESTAMP, ""), h.get(signing.HEADER_NONCE, ""),
                                      body, h.get(signing.HEADER_SIGNATURE, "")):
                    with receiver._lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                key = h.get("Idempotency-Key", "")
                with receiver._lock:
                    receiver.deliveries.append(key)
                    if key not in {r["push_id"] for r in receiver.received}:
                        receiver.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/parking/push"
        # shutdown() waits for the loop's next poll: at the default 0.5 s, every test's receiver took that long to stop
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    """``python -m tools.city_receiver``: serve on TONGTING_CITY_PUSH_PORT and print what arrives."""
    import os

    r = Receiver(os.environ.get("TONGTING_CITY_PUSH_SECRET", "local-city-push-key"),
                 int(os.environ.get("TONGTING_CITY_PUSH_PORT", "8002"))).start()
    print(f"city push receiver on {r.url}", flush=True)
    seen = 0
    try:
        while True:
            time.sleep(1)
            for push in r.received[seen:]:
                print(json.dumps(push, ensure_ascii=False), flush=True)
            seen = len(r.received)
    except KeyboardInterrupt:
        r.stop()


if __name__ == "__main__":
    main()
