"""Sign and send protocol v1 events like a device, against ``make run`` (or any Tongting API).

    python -m tools.device_cli entry --device liangxi-lot-01-in1 --plate 苏B12345 --lane in-1 --ago 3h
    python -m tools.device_cli exit  --device liangxi-lot-01-out1 --plate 苏B12345
    python -m tools.device_cli occupancy --device liangxi-lot-01-sys --total 200 --free 57
    python -m tools.device_cli heartbeat --device liangxi-lot-01-sys
    python -m tools.device_cli raw --device lx-nanchang-st-01-e1 --file events/samples/v1/event-batch.json
    python -m tools.device_cli sign --device liangxi-lot-01-in1 --file body.json   # print curl headers
    python -m tools.device_cli register --device liangxi-lot-01-in2 --kind gate_camera --lot liangxi-lot-01 --lane in-2

Events are dated now, or in the past with ``--ago 3h`` (s, m, h, d) or ``--at 2026-11-23T08:00:00+08:00``.
The API is http://127.0.0.1:$TONGTING_API_PORT (8000 unless set) unless --api is given. Credentials come
from .local/devices.json (written by ``make run``; ``register`` adds the devices it registers through the
admin API with .local/admin-token) unless --secret (and --lot) are given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shared.clock import iso
from shared.protocol import signing

LOCAL_DIR = Path(".local")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def default_api() -> str:
    return f"http://127.0.0.1:{os.environ.get('TONGTING_API_PORT', '8000')}"


def parse_ago(text: str) -> timedelta:
    """``3h``, ``90m``, ``1h30m``, ``2d``: how long ago an event happened."""
    parts = re.findall(r"(\d+)\s*([smhd])", text or "")
    if not parts or re.sub(r"\d+\s*[smhd]", "", text).strip():
        raise argparse.ArgumentTypeError(f"--ago takes a duration like 3h, 90m or 1h30m, not {text!r}")
    return sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta())


def parse_at(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--at takes an RFC 3339 instant with its offset, not {text!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError("--at needs an offset, e.g. 2026-11-23T08:00:00+08:00")
    return at


def _credentials(device: str, secret: str | None, lot: str | None) -> tuple[str, str]:
    if secret:
        return secret, lot or ""
    path = LOCAL_DIR / "devices.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if device not in known:
        raise SystemExit(f"device {device} is not in {path}: give --secret (and --lot), or add it with "
                         f"`python -m tools.device_cli register --device {device} ...`")
    return known[device]["secret"], lot or known[device].get("lot_id") or ""


def occurred_at(args) -> datetime:
    if args.at is not None:
        return args.at
    return datetime.now(timezone.utc) - (args.ago or timedelta())


def _event(args, lot_id: str) -> dict:
    base = {"event_id": args.event_id or f"cli-{uuid.uuid4().hex[:12]}", "type": args.command,
            "lot_id": lot_id, "occurred_at": iso(occurred_at(args))}
    if args.command in ("entry", "exit"):
        base |= {"plate": args.plate, "plate_colour": args.colour, "lane": args.lane}
    elif args.command in ("berth_start", "berth_end"):
        base |= {"plate": args.plate, "plate_colour": args.colour, "berth": args.berth}
    elif args.command == "occupancy":
        base |= {"total": args.total, "free": args.free}
    return base


def _redate(body: bytes, args) -> bytes:
    """``raw --ago/--at``: re-date every event in a file (one event or a batch)."""
    data = json.loads(body)
    for event in data.get("events", [data]):
        event["occurred_at"] = iso(occurred_at(args))
    return json.dumps(data, ensure_ascii=False).encode()


def send(url: str, device: str, secret: str, body: bytes) -> tuple[int, dict]:
    headers = signing.signed_headers(device, secret, body, int(time.time()))
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    return _call(req)


def _call(req: urllib.request.Request) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def register(args) -> int:
    """Register a device through the admin API and keep its secret in .local/devices.json for this CLI."""
    token = (LOCAL_DIR / "admin-token").read_text().strip()
    reg = {"device_id": args.device, "kind": args.kind, "lot_id": args.lot, "lane": args.lane_of_new}
    req = urllib.request.Request(f"{args.api}/v1/admin/devices", method="POST",
                                 data=json.dumps({k: v for k, v in reg.items() if v}, ensure_ascii=False).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    status, reply = _call(req)
    if status == 201:
        path = LOCAL_DIR / "devices.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        device = reply["device"]
        known[args.device] = {"secret": reply["secret"], "lot_id": device.get("lot_id"), "kind": device["kind"]}
        path.write_text(json.dumps(known, indent=2, ensure_ascii=False))
        reply = {"device": device, "secret": f"kept in {path}"}
    print(status, json.dumps(reply, ensure_ascii=False, indent=2))
    return 0 if status < 400 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["entry", "exit", "berth_start", "berth_end", "occupancy", "heartbeat", "raw", "sign", "register"])
    p.add_argument("--device", required=True)
    p.add_argument("--secret")
    p.add_argument("--api", default=default_api(), help="default http://127.0.0.1:$TONGTING_API_PORT")
    p.add_argument("--lot")
    p.add_argument("--plate", default="苏B12345")
    p.add_argument("--colour", default="blue")
    p.add_argument("--lane", default=None, help="entry/exit lane (default in-1 for entry, out-1 for exit)")
    p.add_argument("--berth")
    p.add_argument("--total", type=int, default=0)
    p.add_argument("--free", type=int, default=0)
    p.add_argument("--event-id")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--ago", type=parse_ago, help="date the event in the past: 3h, 90m, 1h30m, 2d")
    when.add_argument("--at", type=parse_at, help="date the event at an RFC 3339 instant with offset")
    p.add_argument("--kind", default="gate_camera", help="register: the device kind")
    p.add_argument("--file", help="a JSON body to send as is (raw, sign); --ago/--at re-date its events")
    args = p.parse_args(argv)
    args.lane_of_new = args.lane
    if args.lane is None:
        args.lane = "in-1" if args.command == "entry" else "out-1"
    if args.command == "register":
        return register(args)
    secret, lot_id = _credentials(args.device, args.secret, args.lot)
    if args.file:
        body = Path(args.file).read_bytes()
        if args.ago is not None or args.at is not None:
            body = _redate(body, args)
    else:
        body = json.dumps(_event(args, lot_id), ensure_ascii=False).encode()
    if args.command == "sign":
        for k, v in signing.signed_headers(args.device, secret, body, int(time.time())).items():
            print(f"-H '{k}: {v}' ", end="")
        print()
        return 0
    status, reply = send(f"{args.api}/v1/events", args.device, secret, body)
    print(status, json.dumps(reply, ensure_ascii=False, indent=2))
    return 0 if status < 400 else 1


if __name__ == "__main__":
    raise SystemExit(main())
