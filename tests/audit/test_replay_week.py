"""A week on the local stack, replayed: traffic over seven days with resent events, exits that arrive
before their entries and stays across midnight; a pay-later citizen who pays and disputes, a dispute
upheld in part and refunded. Replay reproduces every session's charge in the ledger to the fen, and the
payment, the dispute's adjustment and its refund from their archived money records (the callback delivered
twice is archived once); a deleted payment posting is one difference naming its session and bill; removing
one archived record or swapping two fails verification."""

from __future__ import annotations

import json
from datetime import timedelta

from shared import resources
from shared.adapters.aws import client
from shared.adapters.dynamo.ledger import HEADER, LedgerItem, posting_key
from shared.adapters.log_tiles import log_signer
from shared.auth import Role
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from shared.tokens import mint
from tests.support import CallbackPoster, gate_event, pay_later_citizen
from tools.tongting import main

LOT, CITIZEN_PLATE = "lx-nanchang-st-01", "苏B12345"
STAYS = 2  # a day's gate stays besides the late pair: few, as each costs moto calls, but each kind is there


def _district_admin(api, services, clock):
    token = mint(services.token_key(), subject="lx", role=Role.DISTRICT_ADMIN, now=clock.now(), ttl=timedelta(days=30),
                 district_code="320213")  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(method, path, body=None):
        resp = getattr(api, method)(path, headers=headers, body=json.dumps(body) if body is not None else None)
        return resp.status_code, json.loads(resp.body)

    return call


def _week(stack, api, device, clock):
    citizen = pay_later_citizen(stack.services, api, clock, CITIZEN_PLATE, LOT, ZHUMADIAN_CLASS1)
    cam_in, cam_out = device("lx-in1"), device("lx-out1")
    sandbox = stack.services.providers["sandbox"]
    for day in range(7):
        morning = clock.now()
        for i in range(STAYS):  # a stay of 25 minutes, and one of about 16 hours past midnight
            plate = f"苏B{day}{i:04d}"
            assert cam_in.post(gate_event("entry", plate, clock.now(), event_id=f"d{day}-in-{i}"))[0] == 200
            clock.advance(minutes=11)
        # A resent entry (the device did not get its acknowledgement).
        cam_in.post(gate_event("entry", f"苏B{day}0001", morning + timedelta(minutes=11), event_id=f"d{day}-in-1"))
        for i in range(STAYS):
            clock.advance(minutes=25 + 900 * i)
            exit_event = gate_event("exit", f"苏B{day}{i:04d}", clock.now(), event_id=f"d{day}-out-{i}")
            assert cam_out.post(exit_event)[0] == 200
            if i == 1:  # a resent exit
                cam_out.post(exit_event)
        # Out of order: the exit is delivered before its entry.
        exit_at = clock.now()
        cam_out.post(gate_event("exit", f"苏C{day}9999", exit_at, event_id=f"d{day}-out-late"))
        clock.advance(seconds=2)
        entered_at = exit_at - timedelta(hours=2, minutes=7)
        cam_in.post(gate_event("entry", f"苏C{day}9999", entered_at, event_id=f"d{day}-in-late"))
        if day == 1:  # the citizen leaves on pay-later, pays the bill, disputes it; upheld in part
            cam_in.post(gate_event("entry", CITIZEN_PLATE, clock.now(), event_id="cz-in"))
            clock.advance(hours=2.5)
            ack = cam_out.post(gate_event("exit", CITIZEN_PLATE, clock.now(), event_id="cz-out"))[1]["acks"][0]
            assert ack["gate"]["reason"] == "pay_later", ack
            bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
            resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"},
                            body=json.dumps({"channel": "alipay"}))  # fmt: skip
            sandbox.approve(stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
            sandbox.deliver(CallbackPoster(api, "sandbox"))
            sandbox.deliver(CallbackPoster(api, "sandbox"))  # nothing queued twice, nothing applied twice
            assert citizen("post", f"/v1/me/bills/{bill_id}/disputes", {"reason": "missed_exit"})[0] == 201
            staff = _district_admin(api, stack.services, clock)
            decision = {"decision": "upheld", "fair_amount_fen": 400}
            assert staff("post", f"/v1/admin/disputes/{bill_id}/resolve", decision)[0] == 200
        clock.advance(hours=24) if day < 6 else None
    stack.pump_streams()
    assert stack.services.ledger.check() == []


def _replay(tmp_path, *extra, registry="dynamo"):
    report = tmp_path / "week.json"
    report.unlink(missing_ok=True)
    code = main(["replay", "--archive", f"s3://{resources.EVENT_ARCHIVE.name}", "--registry", registry,
                 "--ledger", "dynamo", "--json", str(report), "--quiet", "--key", log_signer().verifier_key(), *extra])  # fmt: skip
    return code, json.loads(report.read_text()) if report.exists() else None


def _rewrite(key: str, change) -> None:
    s3, bucket = client("s3"), resources.EVENT_ARCHIVE.name
    lines = s3.get_object(Bucket=bucket, Key=key)["Body"].read().split(b"\n")
    s3.put_object(Bucket=bucket, Key=key, Body=b"\n".join(change([x for x in lines if x])) + b"\n")


def test_a_replayed_week_matches_the_ledger_and_a_doctored_archive_fails(stack, api, device, clock, city, tmp_path):
    _week(stack, api, device, clock)
    code, doc = _replay(tmp_path)
    assert doc["verification"]["ok"], doc["verification"]
    s = doc["summary"]
    assert (s["differences"], s["difference_fen"]) == (0, 0), json.dumps(doc["differences"], ensure_ascii=False)
    assert s["sessions_charged"] == 7 * (STAYS + 1) + 1 and s["replayed_fen"] == s["ledger_fen"] > 0
    assert len({t["day"] for t in doc["totals"]}) >= 7
    assert not {"payment", "refund", "adjustment"} & set(doc["not_replayed"])  # replayed from money records
    money = {t["kind"]: t for t in doc["money_totals"]}
    assert set(money) == {"payment", "refund", "adjustment"}, money
    assert all(t["replayed_fen"] == t["ledger_fen"] > 0 for t in money.values()), money
    assert s["money_records"] == 3  # the callback delivered twice is one record
    assert code == 0
    # the lots and tariffs that priced the week come from the archive itself (verified with the rest)
    code, from_archive = _replay(tmp_path, registry="archive")
    assert code == 0 and from_archive["verification"]["ok"]
    assert (from_archive["summary"]["differences"], from_archive["summary"]["replayed_fen"]) == (0, s["replayed_fen"])
    registry = [o["Key"] for o in client("s3").list_objects_v2(Bucket=resources.EVENT_ARCHIVE.name, Prefix="registry/")["Contents"]]
    assert any(k.startswith("registry/lot/") for k in registry) and any(k.startswith("registry/tariff/") for k in registry)

    payment = next(p for p in stack.services.ledger.scan_postings() if p.kind.value == "payment")
    header = LedgerItem.get(posting_key(payment.posting_id), HEADER)
    header.delete()
    code, doc = _replay(tmp_path)
    assert code == 1 and len(doc["differences"]) == 1, doc["differences"]
    d = doc["differences"][0]
    assert (d["kind"], d["session_id"], d["bill_id"]) == ("payment", payment.refs["session_id"], payment.refs["bill_id"])
    assert (d["replayed_fen"], d["ledger_fen"], d["postings"]) == (payment.amount_fen, 0, [payment.posting_id])
    header.save()  # the posting back: the books match again

    s3, bucket = client("s3"), resources.EVENT_ARCHIVE.name
    assert len(s3.list_objects_v2(Bucket=bucket, Prefix="books/")["Contents"]) == 3
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="events/")["Contents"]]
    bodies = {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in objects}
    key = next(k for k in objects if bodies[k].count(b"\n") >= 3)
    _rewrite(key, lambda lines: [lines[1], lines[0], *lines[2:]])  # two records swapped
    assert _replay(tmp_path) == (2, None)
    s3.put_object(Bucket=bucket, Key=key, Body=bodies[key])
    assert _replay(tmp_path)[0] == 0
    _rewrite(key, lambda lines: lines[:1] + lines[2:])  # one record removed
    assert _replay(tmp_path) == (2, None)
