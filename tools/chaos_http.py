"""``python -m tools.chaos_http [--stays 60] [--seed 15]``: the chaos of tests/chaos, over HTTP, against a
running ``make run`` (its .local/ credentials). Start the stack with the sandbox's delivery faults, e.g.

    TONGTING_SANDBOX_FAULTS="duplicates=1,reverse_order=1" make run

then run this from the same directory. Each stay's entry and exit are posted 1-3 times, signed as the
lot's cameras, all shuffled together (many exits arrive before their entries); every third bill is paid
through two channels at once and both approved on the payment app (an overpayment the platform must
refund); the stack's own loop delivers the callbacks with the faults asked for. Then, read back through the
admin API: every stay one closed session with its true duration (every exit-before-entry reconciled), no
bill paid twice net of refunds and none paid yet due, the ledger check sound. Prints the figures and
writes them as JSON (``--out``); exits 1 if an invariant is broken.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shared.bills.model import bill_id_for
from shared.protocol import signing

LOCAL_DIR = Path(".local")


class Http:
    def __init__(self, api: str, pay_app: str, admin_token: str) -> None:
        self.api, self.pay_app, self.admin = api.rstrip("/"), pay_app.rstrip("/"), admin_token
        self.statuses: dict[int, int] = {}

    def call(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        self.statuses[status] = self.statuses.get(status, 0) + 1
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, {"raw": raw[:200].decode("utf-8", "replace")}

    def device(self, device_id: str, secret: str, event: dict) -> tuple[int, dict]:
        body = json.dumps(event, ensure_ascii=False).encode()
        return self.call("POST", f"{self.api}/v1/events", body, signing.signed_headers(device_id, secret, body, int(time.time())))

    def staff(self, path: str) -> tuple[int, dict]:
        return self.call("GET", f"{self.api}{path}", headers={"Authorization": f"Bearer {self.admin}"})


def _gate_lot(credentials: dict, wanted: str | None) -> tuple[str, tuple[str, str], tuple[str, str]]:
    lots = sorted({c["lot_id"] for c in credentials.values() if c.get("lot_id")})
    for lot in ([wanted] if wanted else ["liangxi-lot-01", *lots]):
        cam_in, cam_out = f"{lot}-in1", f"{lot}-out1"
        if cam_in in credentials and cam_out in credentials:
            return lot, (cam_in, credentials[cam_in]["secret"]), (cam_out, credentials[cam_out]["secret"])
    raise SystemExit("no lot with an entry and an exit camera in .local/devices.json")


def _iso(at: datetime) -> str:
    return at.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="seconds")


def run(http: Http, credentials: dict, stays: int = 60, seed: int = 15, lot: str | None = None, settle_s: float = 120.0) -> dict:
    rng = random.Random(seed)
    run_id = uuid.uuid4().hex[:6]  # plates and event ids of this run: a restored stack keeps earlier runs
    lot_id, (in_id, in_secret), (out_id, out_secret) = _gate_lot(credentials, lot)
    start = datetime.now(timezone.utc) - timedelta(hours=8)
    plan = []
    for i in range(stays):
        plate = f"苏K{'ABCDEFGHJK'[int(run_id, 16) % 10]}{(int(run_id, 16) // 10 + i) % 10000:04d}"
        entered = start + timedelta(seconds=37 * i)
        plan.append((plate, entered, entered + timedelta(minutes=rng.randint(45, 240)), i))
    deliveries = [(kind, stay) for stay in plan for kind in ("entry", "exit") for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)

    started = time.monotonic()
    sessions: dict[str, set] = {plate: set() for plate, *_ in plan}
    seen_entry, exits_first, problems = set(), 0, []
    for kind, (plate, entered, exited, i) in deliveries:
        if kind == "exit" and plate not in seen_entry:
            exits_first += 1
        if kind == "entry":
            seen_entry.add(plate)
        event = {"event_id": f"chaos-{run_id}-{kind}-{i}", "type": kind, "lot_id": lot_id, "occurred_at": _iso(entered if kind == "entry" else exited),
                 "plate": plate, "plate_colour": "blue", "lane": "in-1" if kind == "entry" else "out-1", "confidence": 0.97}  # fmt: skip
        status, body = http.device(*((in_id, in_secret) if kind == "entry" else (out_id, out_secret)), event)
        if status != 200:
            problems.append(f"{kind} {plate}: {status} {body}")
            continue
        sessions[plate].add(body["acks"][0].get("session_id"))
    posted_s = time.monotonic() - started

    bills: dict[str, dict] = {}
    for plate, entered, exited, _ in plan:
        ids = sessions[plate]
        if len(ids) != 1 or None in ids:
            problems.append(f"{plate}: sessions {ids}")
            continue
        session_id = next(iter(ids))
        status, session = http.staff(f"/v1/admin/sessions/{session_id}")
        took = None
        if session.get("entered_at") and session.get("exited_at"):
            took = int((datetime.fromisoformat(session["exited_at"]) - datetime.fromisoformat(session["entered_at"])).total_seconds())
        if status != 200 or session.get("status") != "closed" or took != int((exited - entered).total_seconds()):
            problems.append(f"{plate}: session {status} {session.get('status')} {took}")
        status, bill = http.staff(f"/v1/admin/bills/{bill_id_for(session_id)}")
        if status == 200:
            bills[plate] = bill

    paid_plates, twice = set(), set()
    for plate, *_ in plan[::3]:
        bill = bills.get(plate)
        if not bill or not bill.get("due_fen"):
            continue
        refs = []
        for channel in ("wechat_pay", "alipay"):
            status, payment = http.call("POST", f"{http.api}/v1/bills/{bill['bill_id']}/payments", json.dumps({"channel": channel}).encode())
            if status == 201 and payment.get("next_action_url"):
                refs.append(payment["next_action_url"].rstrip("/").rsplit("/", 1)[-1])
        for ref in refs:
            status, _ = http.call("POST", f"{http.pay_app}/pay/{ref}/approve", b"{}")
            if status >= 400:
                problems.append(f"approve {ref}: {status}")
        paid_plates.update([plate] if refs else [])
        twice.update([plate] if len(refs) == 2 else [])

    # The stack's loop delivers the callbacks (with the faults asked for) and the refunds' callbacks
    deadline, unsettled = time.monotonic() + settle_s, []
    while True:
        unsettled = []
        for plate, bill in bills.items():
            status, now = http.staff(f"/v1/admin/bills/{bill['bill_id']}")
            bills[plate] = now
            owed = now["amount_fen"] - now.get("discount_fen", 0) - now.get("adjusted_fen", 0) - now.get("written_off_fen", 0)
            paid = now.get("paid_fen", 0) - now.get("refunded_fen", 0)
            # overpaid, or callbacks still to come (a bill approved twice is settled once its refund is in)
            if paid > owed or (plate in paid_plates and paid != owed) or (plate in twice and not now.get("refunded_fen")):
                unsettled.append(plate)
        if not unsettled or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    for plate in unsettled:
        b = bills[plate]
        problems.append(f"{b['bill_id']}: paid {b.get('paid_fen', 0)} - refunded {b.get('refunded_fen', 0)} of {b['amount_fen']}")
    for plate, b in bills.items():
        if b.get("paid_fen") and b.get("due_fen"):
            problems.append(f"{b['bill_id']}: paid yet {b['due_fen']} due")
    status, check = http.staff("/v1/admin/ledger/check")
    if status != 200 or not check.get("sound"):
        problems.append(f"ledger: {status} {check.get('problems', check)}"[:500])
    fivexx = sum(n for s, n in http.statuses.items() if s >= 500)
    if fivexx:
        problems.append(f"{fivexx} answers were 5xx")
    return {"benchmark": "chaos_http", "seed": seed, "run_id": run_id, "lot_id": lot_id, "stays": stays,
            "deliveries": len(deliveries), "exits_before_entries": exits_first, "double_paid_bills": len(twice),
            "bills": len(bills), "refunded_bills": sum(1 for b in bills.values() if b.get("refunded_fen")), "requests": sum(http.statuses.values()), "statuses": {str(k): v for k, v in sorted(http.statuses.items())},
            "events_posted_s": round(posted_s, 1), "seconds": round(time.monotonic() - started, 1), "problems": problems}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--pay-app", default="http://127.0.0.1:8001")
    parser.add_argument("--local-dir", default=str(LOCAL_DIR), help="make run's .local/ (device secrets, admin token)")
    parser.add_argument("--stays", type=int, default=60)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--lot", help="a lot with -in1 and -out1 cameras (default liangxi-lot-01)")
    parser.add_argument("--settle-s", type=float, default=120.0, help="how long to wait for callbacks and refunds")
    parser.add_argument("--out", help="write the figures here as JSON")
    opts = parser.parse_args(argv)
    local = Path(opts.local_dir)
    credentials = json.loads((local / "devices.json").read_text())
    http = Http(opts.api, opts.pay_app, (local / "admin-token").read_text().strip())
    result = run(http, credentials, stays=opts.stays, seed=opts.seed, lot=opts.lot, settle_s=opts.settle_s)
    if opts.out:
        import os

        from bench.report import git_commit, machine_info

        here = os.getcwd()
        os.chdir(Path(__file__).resolve().parents[1])  # the commit of this code, not of the directory make run uses
        try:
            commit = git_commit()
        finally:
            os.chdir(here)
        Path(opts.out).write_text(json.dumps({**result, "commit": commit, "machine": machine_info()}, indent=2, ensure_ascii=False) + "\n")
    print(f"chaos over HTTP: {result['stays']} stays, {result['deliveries']} deliveries ({result['exits_before_entries']} exits "
          f"before their entries), {result['double_paid_bills']} bills paid twice ({result['refunded_bills']} refunded), {result['requests']} requests "
          f"{result['statuses']}, {result['seconds']} s; problems: {len(result['problems'])}")  # fmt: skip
    for problem in result["problems"][:20]:
        print("  ", problem)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
