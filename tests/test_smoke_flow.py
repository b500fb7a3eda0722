
from tests.support import gate_event


def test_entry_then_exit_opens_gate_with_no_tariff(device, clock, api):
    cam = device("lx-in1")
    t0 = clock.now()
    status, body = cam.post(gate_event("entry", "苏B12345", t0))
    assert status == 200, body
    ack = body["acks"][0]
    assert ack["status"] == "accepted" and ack["session_id"].startswith("ses_")
    clock.advance(minutes=30)
    status, body = device("lx-out1").post(gate_event("exit", "苏B12345", clock.now()))
    assert status == 200, body
    out = body["acks"][0]
    assert out["session_id"] == ack["session_id"]
    assert out["match"] == "exact"
    assert out["gate"] == {"decision": "open", "amount_fen": 0, "reason": "no_tariff"}
