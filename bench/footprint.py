"""The API function's memory, measured apart from the embedded AWS: ``python -m bench.footprint``.

Two processes, as in AWS: the embedded AWS (moto, the demo city, the priced lot) is served over HTTP on
127.0.0.1 by one process (`LocalStack(server_port=...)`); a second, fresh interpreter is the API function.
It imports the handler module (what a cold start imports), builds its services with the deployed DynamoDB,
KMS and SSM adapters against that endpoint, and serves ``bench_cost``'s pay-on-exit sessions (entry, exit,
pay page, pay, the provider's callback) through the Chalice app; then its peak resident set
(``ru_maxrss``: VmHWM) is what a Lambda container of that function would hold. The client side of the
benchmark (the Chalice test client, the sandbox provider, signing: ~6.5 MB) runs in it too, an upper bound
for that part. Not in it: Lambda's own runtime process, and X-Ray segments (tracing is off here as in every
benchmark; the X-Ray SDK itself is imported with the handler module, so its client is counted).

Used by ``bench_cost --footprint`` (results: ``api_function_footprint``) to justify the API function's
``memory_mb`` in ``shared/resources.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SERVER = r"""
import json, os, sys
from infra.local.stack import LocalStack
from shared.clock import ManualClock
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import build_city, price_lot
from bench.bench_paylater import LOT
stack = LocalStack(ManualClock(), server_port=int(sys.argv[1])).start()
city = build_city(stack.services.registry)
price_lot(stack.services, LOT, ZHUMADIAN_CLASS1)
env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "POWERTOOLS_", "TONGTING_", "MOTO_"))
       or k.endswith("_ARN")}
print(json.dumps({"env": env, "secrets": city.secrets}), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
stack.stop()
"""

_FUNCTION = r"""
import json, os, resource, sys, time, types
setup = json.loads(sys.stdin.readline())
os.environ.update(setup["env"])
os.environ["AWS_ENDPOINT_URL"] = setup["endpoint"]
def status(key):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key + ":")) / 1024
out = {"interpreter_rss_mb": status("VmRSS")}
cpu = time.process_time()
from functions.api.app import app  # what Lambda imports at a cold start (the handler module)
out["import_cpu_s"] = round(time.process_time() - cpu, 3)
out["after_handler_import_rss_mb"] = status("VmRSS")
from shared import bootstrap
from shared.clock import ManualClock
services = bootstrap.configure(ManualClock())  # the deployed adapters (DynamoDB, KMS, SSM) over HTTP
out["after_services_rss_mb"] = status("VmRSS")
from chalice.test import Client
from bench import bench_cost, bench_paylater as pl
out["after_client_imports_rss_mb"] = status("VmRSS")  # the benchmark's side: Chalice's test client, signing
stack = types.SimpleNamespace(services=services, pump_streams=lambda: 0)
with Client(app) as client:
    world = pl.World(stack, pl.Api(client.http), services.clock, setup["secrets"])
    for k in range(setup["sessions"]):
        seen = bench_cost.pay_on_exit(world, k)
        if seen["problems"]:
            raise SystemExit(f"session {k}: {seen['problems']}")
        if k == 0:
            out["after_first_session_rss_mb"] = status("VmRSS")
out["sessions_served"] = setup["sessions"]
out["moto_loaded"] = any(m == "moto" or m.startswith("moto.") for m in sys.modules)  # must be False
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_function_footprint(sessions: int = 20) -> dict:
    """Peak RSS (MB) of a fresh API-function process after ``sessions`` pay-on-exit sessions, and its
    import cost; the embedded AWS in another process."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "true"}
    server = subprocess.Popen([sys.executable, "-c", _SERVER, str(port)], cwd=ROOT, env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        setup = json.loads(server.stdout.readline())
        setup |= {"endpoint": f"http://127.0.0.1:{port}", "sessions": sessions}
        done = subprocess.run([sys.executable, "-c", _FUNCTION], cwd=ROOT, env=env, text=True,
                              input=json.dumps(setup) + "\n", capture_output=True, timeout=600)
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    if done.returncode:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(api_function_footprint(int(sys.argv[1]) if len(sys.argv) > 1 else 20), indent=1))
