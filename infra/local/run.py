"""``make run``: the platform on the embedded AWS with a demo city, until Ctrl-C.

- HTTP API (Chalice local server) on 127.0.0.1:8000
- the sandbox payment app (payer and providers) on 127.0.0.1:8001
- the embedded AWS (moto) on 127.0.0.1:4566 for the AWS CLI / boto3
- a local receiver of the city push (the city operation platform's stand-in) on 127.0.0.1:8002
- streams pumped, schedules fired and the providers' callbacks delivered every second on the real clock, and
  soon after a request that may have queued work (a write to the API, an approval on the payment app)
Device credentials and an admin token are written to .local/ (git-ignored).
"""

from __future__ import annotations

from infra.local import botocore_once  # noqa: F401,I001 (first: before any botocore session is made)

import json
import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path

from infra.local import payment_app
from infra.local.gateway import api_server
from infra.local import snapshot
from infra.local.loop import background_loop
from infra.local.seed import seed
from infra.local.seed_scenarios import seed_scenarios
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from infra.local.stack import LocalStack
from shared import tokens
from shared.auth import Role
from shared.clock import SystemClock
from shared.observability import logger

API_PORT = int(os.environ.get("TONGTING_API_PORT", "8000"))
PAY_PORT = int(os.environ.get("TONGTING_PAY_APP_PORT", "8001"))
AWS_PORT = int(os.environ.get("TONGTING_AWS_PORT", "4566"))
CITY_PUSH_PORT = int(os.environ.get("TONGTING_CITY_PUSH_PORT", "8002"))
LOCAL_DIR = Path(".local")
SNAPSHOT = LOCAL_DIR / "aws-state.pickle"  # the embedded AWS's state between runs (make run CLEAN=1 starts afresh)
def _at_once(*calls) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _stop(*_) -> None:
    # Unwind serve_forever like Ctrl-C. (server.shutdown() here would deadlock: the signal handler
    # runs on the very thread that serve_forever blocks, and shutdown waits for that loop to end.)
    raise KeyboardInterrupt


def main() -> None:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("TONGTING_SANDBOX_URL", f"http://127.0.0.1:{PAY_PORT}")
    os.environ.setdefault("TONGTING_PAY_BASE_URL", f"http://127.0.0.1:{API_PORT}/v1/pay")
    # A stand-in for the city operation platform (S5): the city-push schedule delivers to it.
    from tools.city_receiver import Receiver

    os.environ.setdefault("TONGTING_CITY_PUSH_SECRET", "local-city-push-key")
    city_receiver = Receiver(os.environ["TONGTING_CITY_PUSH_SECRET"], CITY_PUSH_PORT).start()
    os.environ.setdefault("TONGTING_CITY_PUSH_URL", city_receiver.url)
    clean = "--clean" in sys.argv[1:]
    stack = LocalStack(SystemClock(), server_port=AWS_PORT).start()
    restored = not clean and (LOCAL_DIR / "devices.json").exists() and snapshot.restore(SNAPSHOT)
    if restored:
        for pump in stack.pumps:
            pump.start_at_latest()
        credentials = json.loads((LOCAL_DIR / "devices.json").read_text())
    else:
        credentials = seed(stack.services.registry, tariffs=stack.services.tariffs)
        credentials |= seed_scenarios(stack.services, ZHUMADIAN_CLASS1.id)  # issue 13: the hospital lot
    LOCAL_DIR.mkdir(exist_ok=True)
    (LOCAL_DIR / "devices.json").write_text(json.dumps(credentials, indent=2, ensure_ascii=False))
    token = tokens.mint(stack.services.token_key(), subject="local-city-admin", role=Role.CITY_ADMIN,
                        now=stack.clock.now(), ttl=timedelta(days=7))
    (LOCAL_DIR / "admin-token").write_text(token)
    citizen = tokens.mint(stack.services.token_key(), subject="local-citizen", role=Role.CITIZEN,
                          now=stack.clock.now(), ttl=timedelta(days=7))
    (LOCAL_DIR / "citizen-token").write_text(citizen)

    from functions.api.app import app

    stop, wake = threading.Event(), threading.Event()
    # one current_request per thread (not LocalDevServer's shared one)
    server = api_server(app, "127.0.0.1", API_PORT, after_write=wake.set)
    api_base = f"http://127.0.0.1:{API_PORT}"
    loop = threading.Thread(target=background_loop, args=(stack, stop, api_base, credentials, wake), daemon=True)
    loop.start()
    pay_app = payment_app.serve(stack.services.providers, PAY_PORT, verifier=stack.services.plate_verifier,
                                after_write=wake.set)
    threading.Thread(target=pay_app.serve_forever, daemon=True).start()
    lots = {c["lot_id"] for c in credentials.values() if c["lot_id"]}
    print(f"""
Tongting local stack is up ({"state restored from " + str(SNAPSHOT) if restored else "a fresh demo city"}).
  HTTP API      http://127.0.0.1:{API_PORT}   (OpenAPI: /openapi.json)
  Embedded AWS  http://127.0.0.1:{AWS_PORT}   e.g. aws --endpoint-url http://127.0.0.1:{AWS_PORT} dynamodb list-tables
                (credentials: any; region us-east-1)
  Demo city     {len(lots)} lots, {len(credentials)} devices in 7 districts
  City platform http://127.0.0.1:{CITY_PUSH_PORT}/   (local receiver of the city push: GET lists what arrived)
  Payment app   http://127.0.0.1:{PAY_PORT}   (sandbox payer and ETC issuer: POST /pay/<ref>/approve)
  SMS inbox     http://127.0.0.1:{PAY_PORT}/sms   (plate-verification codes the sandbox sent)
  Credentials   .local/devices.json (device secrets), .local/admin-token (city admin),
                .local/citizen-token (a citizen of the service window)
  Try           .venv/bin/python -m tools.device_cli entry --device liangxi-lot-01-in1 --plate 苏B12345 --ago 3h
                then exit, GET /v1/pay/liangxi-lot-01?lane=out-1, POST /v1/pay/liangxi-lot-01/payments
                (see README: "Paying on the local stack")
Ctrl-C stops and keeps the state in {SNAPSHOT} (make run CLEAN=1, or --clean, starts afresh).""", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        wake.set()
        # the servers at once: each waits for its own loop's next look (up to 0.5 s)
        _at_once(pay_app.shutdown, city_receiver.stop, stack.stop_serving)
        loop.join(timeout=5)  # its pass under way ends first: one pump at a time
        try:
            stack.pump_streams()
            snapshot.save(SNAPSHOT)
        except Exception:  # never lose the shutdown itself to a failed snapshot
            logger.exception("could not keep the local state")
        stack.stop()


if __name__ == "__main__":
    main()
