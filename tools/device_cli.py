"""Sign and send protocol v1 events like a device, against ``make run`` (or any Tongting API).

    python -m tools.device_cli entry --device liangxi-lot-01-in1 --plate 苏B12345
    python -m tools.device_cli exit  --device liangxi-lot-01-out1 --plate 苏B12345
    python -m tools.device_cli occupancy --device liangxi-lot-01-sys --total 200 --free 57
    python -m tools.device_cli raw --device liangxi-lot-01-sys --file events/samples/v1/batch.json
    python -m tools.device_cli sign --device liangxi-lot-01-in1 --file body.json   # print curl headers

Credentials come from .local/devices.json (written by ``make run``) unless --secret is given.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

from shared.clock import iso
from shared.protocol import signing


def _credentials(device: str, secret: str | None) -> tuple[str, str]:
    if secret:
        return secret, ""
    creds = json.loads(Path(".local/devices.json").read_text())[device]
    return creds["secret"], creds["lot_id"] or ""


def _event(args, lot_id: str) -> dict:
    base = {"event_id": args.event_id or f"cli-{uuid.uuid4().hex[:12]}", "type": args.command,
            "lot_id": args.lot or lot_id, "occurred_at": iso(datetime.now(timezone.utc))}
    if args.command in ("entry", "exit"):
        base |= {"plate": args.plate, "plate_colour": args.colour, "lane": args.lane}
    elif args.command in ("berth_start", "berth_end"):
        base |= {"plate": args.plate, "plate_colour": args.colour, "berth": args.berth}
    elif args.command == "occupancy":
        base |= {"total": args.total, "free": args.free}
    return base


def send(url: str, device: str, secret: str, body: bytes) -> tuple[int, dict]:
    headers = signing.signed_headers(device, secret, body, int(time.time()))
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["entry", "exit", "berth_start", "berth_end", "occupancy", "heartbeat", "raw", "sign"])
    p.add_argument("--device", required=True)
    p.add_argument("--secret")
    p.add_argument("--api", default="http://127.0.0.1:8000")
    p.add_argument("--lot")
    p.add_argument("--plate", default="苏B12345")
    p.add_argument("--colour", default="blue")
    p.add_argument("--lane", default="out-1")
    p.add_argument("--berth")
    p.add_argument("--total", type=int, default=0)
    p.add_argument("--free", type=int, default=0)
    p.add_argument("--event-id")
    p.add_argument("--file", help="a JSON body to send as is (raw, sign)")
    args = p.parse_args(argv)
    secret, lot_id = _credentials(args.device, args.secret)
    body = Path(args.file).read_bytes() if args.file else json.dumps(_event(args, lot_id), ensure_ascii=False).encode()
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
