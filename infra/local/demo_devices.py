"""The demo city's devices keep their lots online on ``make run``: every few minutes each lot's own system
(or, on the street, its berth robot) sends a signed protocol v1 heartbeat, as a real device would."""

from __future__ import annotations

import json
import uuid

from shared.clock import iso
from shared.protocol import signing

HEARTBEAT_EVERY_S = 120  # well inside the default heartbeat window, so no lot flickers offline
_SENDERS = ("lot_system", "berth_robot")


def heartbeat_senders(credentials: dict[str, dict]) -> dict[str, tuple[str, str]]:
    """One sender per lot: {lot_id: (device_id, secret)}."""
    senders: dict[str, tuple[str, str]] = {}
    for device_id, cred in credentials.items():
        if cred.get("lot_id") and cred.get("kind") in _SENDERS:
            senders.setdefault(cred["lot_id"], (device_id, cred["secret"]))
    return senders


def send_heartbeats(services, credentials: dict[str, dict]) -> int:
    """Post one heartbeat per demo lot through the ingest service (signed, as over HTTP); returns how many."""
    now = services.clock.now()
    sent = 0
    for lot_id, (device_id, secret) in heartbeat_senders(credentials).items():
        event = {"event_id": f"hb-{uuid.uuid4().hex[:16]}", "type": "heartbeat", "lot_id": lot_id, "occurred_at": iso(now)}
        body = json.dumps(event).encode()
        services.ingest.handle(signing.signed_headers(device_id, secret, body, int(now.timestamp())), body)
        sent += 1
    return sent
