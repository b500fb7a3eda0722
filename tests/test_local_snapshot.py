"""``make run`` keeps the embedded AWS's state across restarts (infra/local/snapshot.py): a lot, a device
whose stored secret still decrypts, a parked car and a token issued before the restart all survive."""

from __future__ import annotations

import json
from datetime import timedelta

from infra.local import snapshot
from infra.local.stack import LocalStack
from shared import tokens
from shared.auth import Role
from shared.protocol import signing
from tests.support import build_city, gate_event


def test_state_survives_a_restart_and_a_clean_start_forgets_it(clock, tmp_path):
    path = tmp_path / "aws-state.pickle"
    with LocalStack(clock) as before:
        city = build_city(before.services.registry)
        body = json.dumps(gate_event("entry", "苏B12345", clock.now())).encode()
        ack = before.services.ingest.handle(signing.signed_headers("lx-in1", city.secrets["lx-in1"], body, int(clock.now().timestamp())), body)
        assert "accepted" in json.dumps(ack, default=lambda o: getattr(o, "__dict__", str(o)))
        token = tokens.mint(before.services.token_key(), subject="t", role=Role.CITY_ADMIN, now=clock.now(), ttl=timedelta(days=1))
        before.pump_streams()
        assert before.services.stores.status.get("lx-nanchang-st-01").open_count == 1
        snapshot.save(path)

    with LocalStack(clock) as after:
        assert snapshot.restore(path)
        for pump in after.pumps:
            pump.start_at_latest()
        svc = after.services
        assert svc.registry.lots.require("lx-nanchang-st-01").name == "南长街停车场"
        assert svc.sessions.parked("lx-nanchang-st-01", "苏B12345") is not None
        assert tokens.verify(svc.token_key(), token, now=clock.now()).subject == "t"
        clock.advance(minutes=5)
        body = json.dumps(gate_event("exit", "苏B12345", clock.now(), lane="out-1")).encode()
        out = svc.ingest.handle(signing.signed_headers("lx-out1", city.secrets["lx-out1"], body, int(clock.now().timestamp())), body)
        assert "rejected" not in json.dumps(out, default=lambda o: getattr(o, "__dict__", str(o)))
        assert svc.sessions.parked("lx-nanchang-st-01", "苏B12345") is None  # the device's old secret still signs
        assert after.pump_streams() >= 1  # the new exit's ack, and nothing from before the restart again
        # issue 10: the lot's open count, added from the stream, went up before the restart and down after it
        assert svc.stores.status.get("lx-nanchang-st-01").open_count == 0

    with LocalStack(clock) as clean:  # no restore: the clean start
        assert clean.services.registry.lots.get("lx-nanchang-st-01") is None


def test_a_missing_or_foreign_snapshot_is_not_restored(clock, tmp_path):
    with LocalStack(clock):
        assert not snapshot.restore(tmp_path / "none.pickle")
        (tmp_path / "bad.pickle").write_bytes(b"not a pickle")
        assert not snapshot.restore(tmp_path / "bad.pickle")
