"""Statements against the providers' reconciliation, on memory stores (settlement is wired there too): a
finding of the day on a bill of the operator is reported on its statement and counted per operator by the
scheduled settlement; an operator without findings agrees."""

from __future__ import annotations

import json
from datetime import datetime

from functions.settlement.handler import handler as settlement_handler
from shared import tokens
from shared.auth import Role
from shared.bills.model import bill_id_for
from shared.clock import SHANGHAI
from shared.tariffs.samples import DAY_NIGHT
from tests.support import CallbackPoster, gate_event, price_lot

LX, OP = "lx-nanchang-st-01", "wx-city-parking"


def test_a_reconciliation_finding_shows_on_the_operators_statement(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    device("lx-in1").post(gate_event("entry", "苏B30001", clock.now()))
    clock.advance(hours=2)
    _, body = device("lx-out1").post(gate_event("exit", "苏B30001", clock.now()))
    bill_id = bill_id_for(body["acks"][0]["session_id"])
    resp = api.post(f"/v1/pay/{LX}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill_id, "channel": "alipay"}))
    payment = services.payments.payment(json.loads(resp.body)["payment_id"])
    services.providers["sandbox"].approve(payment.provider_ref)
    services.providers["sandbox"].deliver(CallbackPoster(api, "sandbox"))
    # What the reconciliation records when the provider's amount differs from ours
    services.stores.money.record_finding(f"sandbox#2026-11-23#amount_mismatch#{payment.provider_ref}", {
        "kind": "amount_mismatch", "provider": "sandbox", "day": "2026-11-23", "payment_id": payment.payment_id,
        "provider_ref": payment.provider_ref, "platform_amount_fen": payment.amount_fen,
        "provider_amount_fen": payment.amount_fen - 100, "bill_id": bill_id, "found_at": "2026-11-24T02:00:00+08:00",
        "evidence": {}})
    clock.set(datetime(2026, 11, 24, 3, 30, tzinfo=SHANGHAI))
    out = settlement_handler({}, None)
    assert out["issued"] == 2 and out["reconciliation_disagreements"] == {OP: 1}
    t = tokens.mint(services.token_key(), subject="lx", role=Role.DISTRICT_ADMIN, now=clock.now(), district_code="320213")
    st = json.loads(api.get(f"/v1/admin/settlements/st_{OP}_2026-11-23", headers={"Authorization": f"Bearer {t}"}).body)
    assert st["check"] == []  # the statement agrees with the ledger ...
    rec = st["reconciliation"]  # ... and says where the provider disagrees
    assert rec["compared"] is True and rec["agrees"] is False
    assert rec["findings"][0]["provider_amount_fen"] == payment.amount_fen - 100 and "amount_mismatch" in rec["problems"][0]
    other = services.settlement.reconciliation(services.stores.statements.get("xinwu-hitech", "2026-11-23"))
    assert other["agrees"] is True and other["findings"] == []
    assert settlement_handler({"day": "2026-11-23"}, None)["reconciliation_disagreements"] == {OP: 1}  # a re-run
