"""The ETC channel: a deduction is asked of the issuer, answered later by a signed notification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.adapters.payments import signed_callbacks
from shared.adapters.payments.etc import EtcBehaviour, EtcProvider, SimulatedEtcIssuer
from shared.clock import ManualClock
from shared.errors import Conflict, InvalidInput
from shared.payments.provider import (
    CallbackKind,
    Channel,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    ProviderError,
    SetupRequest,
)

SECRET = "etc_secret"


def request(payment_id: str = "pay_1", plate: str | None = "苏B12345", amount_fen: int = 800) -> PaymentRequest:
    return PaymentRequest(
        payment_id=payment_id,
        bill_id="bill_1",
        amount_fen=amount_fen,
        channel=Channel.ETC,
        destination="acct_op1",
        plate=plate,
        metadata={"lot_id": "lot_7"},
    )


def collect(issuer: SimulatedEtcIssuer) -> list[tuple[dict[str, str], bytes]]:
    deliveries: list[tuple[dict[str, str], bytes]] = []
    issuer.deliver(lambda headers, body: deliveries.append((headers, body)))
    return deliveries


@pytest.fixture
def issuer(clock: ManualClock) -> SimulatedEtcIssuer:
    return SimulatedEtcIssuer(clock, secret=SECRET)


@pytest.fixture
def etc(issuer: SimulatedEtcIssuer, clock: ManualClock) -> EtcProvider:
    return EtcProvider(issuer, secret=SECRET, clock=clock)


def test_satisfies_the_port(etc):
    provider: PaymentProvider = etc
    assert provider.name == "etc"


def test_deduction_pending_then_success_callback(etc, issuer, clock):
    payment = etc.create_payment(request())
    assert payment.status is PaymentStatus.PENDING and payment.next_action_url is None
    assert etc.create_payment(request()) == payment  # idempotent on our payment_id
    [(headers, body)] = collect(issuer)
    assert json.loads(body)["deduction_id"] == "pay_1"
    event = etc.parse_callback({k.upper(): v for k, v in headers.items()}, body)
    assert (event.kind, event.provider_ref, event.payment_id, event.amount_fen) == (
        CallbackKind.PAYMENT_SUCCEEDED,
        payment.provider_ref,
        "pay_1",
        800,
    )
    assert event.provider == "etc" and event.occurred_at == clock.now()
    [deduction] = issuer.list_deductions(clock.now(), clock.now() + timedelta(seconds=1))
    assert deduction.lot_ref == "lot_7"


def test_declined_plate_fails_with_reason(etc, issuer):
    issuer.configure(decline_plates={"苏B12345"})
    etc.create_payment(request())
    [(headers, body)] = collect(issuer)
    event = etc.parse_callback(headers, body)
    assert (event.kind, event.decline_code) == (CallbackKind.PAYMENT_FAILED, "insufficient_balance")


def test_held_deduction_resolved_later(clock):
    issuer = SimulatedEtcIssuer(clock, secret=SECRET, behaviour=EtcBehaviour(auto_resolve=False))
    etc = EtcProvider(issuer, secret=SECRET, clock=clock)
    ref = etc.create_payment(request()).provider_ref
    assert collect(issuer) == []
    issuer.resolve(ref, success=False, reason="obu_blacklisted")
    with pytest.raises(Conflict):
        issuer.resolve(ref, success=True)
    [(headers, body)] = collect(issuer)
    assert etc.parse_callback(headers, body).decline_code == "obu_blacklisted"


def test_duplicates_and_lost_callbacks(etc, issuer):
    issuer.configure(duplicates=2)
    etc.create_payment(request("pay_1"))
    deliveries = collect(issuer)
    assert len(deliveries) == 3 and len({body for _, body in deliveries}) == 1
    lost = etc.create_payment(request("pay_2")).provider_ref
    assert issuer.forget_callbacks(lost) == 3
    issuer.drop_next_callbacks(1)
    etc.create_payment(request("pay_3"))
    assert collect(issuer) == []
    statuses = {t.payment_id: t.status for t in etc.list_transactions(*_day(issuer))}
    assert statuses == {p: PaymentStatus.SUCCEEDED for p in ("pay_1", "pay_2", "pay_3")}


def _day(issuer: SimulatedEtcIssuer):
    now = issuer._clock.now()
    return now - timedelta(days=1), now + timedelta(days=1)


def test_list_transactions_window(etc, issuer, clock):
    start = clock.now()
    etc.create_payment(request("pay_a"))
    clock.advance(7200)
    etc.create_payment(request("pay_b"))
    assert [t.payment_id for t in etc.list_transactions(start, start + timedelta(hours=2))] == ["pay_a"]
    [b] = etc.list_transactions(start + timedelta(hours=2), start + timedelta(hours=3))
    assert (b.provider, b.payment_id, b.amount_fen, b.status) == ("etc", "pay_b", 800, PaymentStatus.SUCCEEDED)


def test_refund_synchronous_idempotent_bounded(etc):
    ref = etc.create_payment(request(amount_fen=800)).provider_ref
    refund = etc.refund(ref, 500, refund_id="rf_1", reason="overcharge")
    assert refund.status == "succeeded" and refund.payment_ref == ref
    assert etc.refund(ref, 500, refund_id="rf_1", reason="overcharge") == refund
    with pytest.raises(InvalidInput) as e:
        etc.refund(ref, 301, refund_id="rf_2", reason="too much")
    assert e.value.code == "refund_exceeds_payment"


def test_setup_not_supported_and_plate_required(etc):
    with pytest.raises(InvalidInput) as e:
        etc.create_setup(SetupRequest(setup_id="set_1", account_id="acc_1"))
    assert e.value.code == "setup_not_supported"
    with pytest.raises(InvalidInput) as e:
        etc.create_payment(request(plate=None))
    assert e.value.code == "plate_required"


def test_issuer_outage(etc, issuer):
    issuer.configure(error_next_request=1)
    with pytest.raises(ProviderError):
        etc.create_payment(request())
    assert etc.create_payment(request()).status is PaymentStatus.PENDING


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "stale", "missing"])
def test_bad_signatures_are_rejected(etc, clock, case):
    etc.create_payment(request())
    [(headers, body)] = etc.issuer.pending_deliveries()
    if case == "tampered":
        body = body.replace(b'"result":"success"', b'"result":"failure"')
    elif case == "wrong_secret":
        headers = {"X-ETC-Signature": signed_callbacks.sign("other", body, int(clock.now().timestamp()))}
    elif case == "stale":
        clock.advance(seconds=301)
    else:
        headers = {}
    with pytest.raises(InvalidInput) as e:
        etc.parse_callback(headers, body)
    assert e.value.code == "bad_signature"


def test_signature_tolerance_both_ways(clock):
    body = b"{}"
    t = int(clock.now().timestamp())
    signed_callbacks.verify(SECRET, signed_callbacks.sign(SECRET, body, t - 300), body, clock.now())
    with pytest.raises(InvalidInput):
        signed_callbacks.verify(SECRET, signed_callbacks.sign(SECRET, body, t + 301), body, clock.now())
