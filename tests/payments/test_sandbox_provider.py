"""The sandbox PSP behaves like a real one: idempotent creates and refunds, signed callbacks that can be
duplicated, reordered, delayed or lost, and off-session declines."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.adapters.payments import signed_callbacks
from shared.adapters.payments.sandbox import Behaviour, SandboxProvider
from shared.clock import ManualClock
from shared.errors import InvalidInput
from shared.payments.provider import (
    CallbackKind,
    Channel,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    ProviderError,
    SetupRequest,
)

SECRET = "whsec_test"


def request(payment_id: str = "pay_1", amount_fen: int = 500, **kw) -> PaymentRequest:
    fields = {
        "payment_id": payment_id,
        "bill_id": "bill_1",
        "amount_fen": amount_fen,
        "channel": Channel.WECHAT_PAY,
        "destination": "acct_op1",
        "plate": "苏B12345",
    }
    return PaymentRequest(**(fields | kw))


class Inbox:
    """A transport that records deliveries."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, headers: dict[str, str], body: bytes) -> None:
        self.deliveries.append((headers, body))

    def ids(self) -> list[str]:
        return [json.loads(body)["id"] for _, body in self.deliveries]


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxProvider:
    return SandboxProvider(clock, webhook_secret=SECRET, base_url="http://pay.local/")


def test_satisfies_the_port(sandbox):
    provider: PaymentProvider = sandbox
    assert provider.name == "sandbox"


def test_create_is_idempotent_on_payment_id(sandbox, clock):
    first = sandbox.create_payment(request())
    again = sandbox.create_payment(request())
    assert first == again
    assert first.status is PaymentStatus.PENDING and first.provider_ref.startswith("sbx_pi_")
    assert first.next_action_url == f"http://pay.local/pay/{first.provider_ref}"
    assert len(sandbox.list_transactions(clock.now() - timedelta(days=1), clock.now() + timedelta(days=1))) == 1
    assert sandbox.create_payment(request("pay_2")).provider_ref != first.provider_ref
    with pytest.raises(InvalidInput) as e:
        sandbox.create_payment(request(amount_fen=900))
    assert e.value.code == "idempotency_key_reused"


def test_approve_sends_one_verified_callback(sandbox, clock):
    ref = sandbox.create_payment(request()).provider_ref
    assert sandbox.pending_deliveries() == []
    assert sandbox.approve(ref).status is PaymentStatus.SUCCEEDED
    inbox = Inbox()
    assert sandbox.deliver(inbox) == 1
    headers, body = inbox.deliveries[0]
    event = sandbox.parse_callback({k.lower(): v for k, v in headers.items()}, body)
    assert event.kind is CallbackKind.PAYMENT_SUCCEEDED
    assert (event.provider_ref, event.payment_id, event.amount_fen) == (ref, "pay_1", 500)
    assert event.provider == "sandbox" and event.raw_type == "payment.succeeded"
    assert event.occurred_at == clock.now()
    assert sandbox.deliver(inbox) == 0
    sandbox.approve(ref)  # already paid: no second event
    assert sandbox.pending_deliveries() == []


def test_decline_then_retry_succeeds(sandbox):
    ref = sandbox.create_payment(request()).provider_ref
    failed = sandbox.decline(ref, code="insufficient_funds")
    assert (failed.status, failed.decline_code) == (PaymentStatus.FAILED, "insufficient_funds")
    sandbox.approve(ref)
    inbox = Inbox()
    sandbox.deliver(inbox)
    kinds = [sandbox.parse_callback(h, b) for h, b in inbox.deliveries]
    assert [(e.kind, e.decline_code) for e in kinds] == [
        (CallbackKind.PAYMENT_FAILED, "insufficient_funds"),
        (CallbackKind.PAYMENT_SUCCEEDED, None),
    ]


def test_decline_plates_decline_on_approve(clock):
    sandbox = SandboxProvider(clock, webhook_secret=SECRET, behaviour=Behaviour(decline_plates={"苏B12345"}))
    ref = sandbox.create_payment(request()).provider_ref
    assert sandbox.approve(ref).decline_code == "card_declined"


def test_duplicates_deliver_identical_copies(sandbox):
    sandbox.configure(duplicates=2)
    sandbox.approve(sandbox.create_payment(request()).provider_ref)
    inbox = Inbox()
    assert sandbox.deliver(inbox) == 3
    assert len({body for _, body in inbox.deliveries}) == 1
    assert len({sandbox.parse_callback(h, b).event_id for h, b in inbox.deliveries}) == 1


def test_reverse_order(sandbox):
    refs = [sandbox.create_payment(request(f"pay_{i}")).provider_ref for i in range(3)]
    for ref in refs:
        sandbox.approve(ref)
    sandbox.configure(reverse_order=True)
    inbox = Inbox()
    sandbox.deliver(inbox)
    assert [sandbox.parse_callback(h, b).provider_ref for h, b in inbox.deliveries] == refs[::-1]


def test_delay_is_honoured(sandbox, clock):
    sandbox.configure(delay_s=60)
    sandbox.approve(sandbox.create_payment(request()).provider_ref)
    inbox = Inbox()
    assert sandbox.deliver(inbox) == 0
    clock.advance(59)
    assert sandbox.deliver(inbox) == 0
    clock.advance(1)
    assert sandbox.deliver(inbox) == 1
    # Signed at send time: the late delivery still verifies.
    assert sandbox.parse_callback(*inbox.deliveries[0]).kind is CallbackKind.PAYMENT_SUCCEEDED


def test_failed_transport_keeps_the_delivery(sandbox):
    sandbox.approve(sandbox.create_payment(request()).provider_ref)

    def down(headers, body):
        raise ConnectionError("webhook down")

    with pytest.raises(ConnectionError):
        sandbox.deliver(down)
    assert len(sandbox.pending_deliveries()) == 1
    assert sandbox.deliver(Inbox()) == 1


def test_off_session_succeeds_or_fails_next(sandbox):
    off = {
        "channel": Channel.UNIONPAY,
        "off_session": True,
        "payment_method_ref": "sbx_pm_1",
        "customer_ref": "sbx_cus_1",
    }
    sandbox.configure(fail_next_off_session=1)
    failed = sandbox.create_payment(request("pay_1", **off))
    assert (failed.status, failed.decline_code, failed.next_action_url) == (PaymentStatus.FAILED, "card_declined", None)
    ok = sandbox.create_payment(request("pay_2", **off))
    assert ok.status is PaymentStatus.SUCCEEDED
    inbox = Inbox()
    sandbox.deliver(inbox)
    events = [sandbox.parse_callback(h, b) for h, b in inbox.deliveries]
    assert [(e.kind, e.payment_id) for e in events] == [
        (CallbackKind.PAYMENT_FAILED, "pay_1"),
        (CallbackKind.PAYMENT_SUCCEEDED, "pay_2"),
    ]
    sandbox.configure(decline_payment_methods={"sbx_pm_1"})
    assert sandbox.create_payment(request("pay_3", **off)).status is PaymentStatus.FAILED
    with pytest.raises(InvalidInput) as e:
        sandbox.create_payment(request("pay_4", off_session=True))
    assert e.value.code == "payment_method_required"


def test_outage_raises_provider_error_then_recovers(sandbox):
    sandbox.configure(error_next_create=2)
    for _ in range(2):
        with pytest.raises(ProviderError):
            sandbox.create_payment(request())
    assert sandbox.create_payment(request()).status is PaymentStatus.PENDING


def test_refund_idempotent_and_bounded(sandbox):
    ref = sandbox.create_payment(request(amount_fen=500)).provider_ref
    with pytest.raises(InvalidInput) as e:
        sandbox.refund(ref, 100, refund_id="rf_0", reason="early")
    assert e.value.code == "payment_not_captured"
    sandbox.approve(ref)
    first = sandbox.refund(ref, 300, refund_id="rf_1", reason="overcharge")
    assert sandbox.refund(ref, 300, refund_id="rf_1", reason="overcharge") == first
    assert first.status == "succeeded" and first.payment_ref == ref
    with pytest.raises(InvalidInput) as e:
        sandbox.refund(ref, 201, refund_id="rf_2", reason="too much")
    assert e.value.code == "refund_exceeds_payment"
    sandbox.refund(ref, 200, refund_id="rf_3", reason="rest")
    inbox = Inbox()
    sandbox.deliver(inbox)
    refunds = [
        e
        for e in (sandbox.parse_callback(h, b) for h, b in inbox.deliveries)
        if e.kind is CallbackKind.REFUND_SUCCEEDED
    ]
    assert [(e.provider_ref, e.payment_id, e.amount_fen) for e in refunds] == [
        (first.provider_ref, "pay_1", 300),
        (refunds[1].provider_ref, "pay_1", 200),
    ]


def test_setup_is_idempotent_and_calls_back(sandbox):
    setup_request = SetupRequest(setup_id="set_1", account_id="acc_1")
    setup = sandbox.create_setup(setup_request)
    assert sandbox.create_setup(setup_request) == setup
    assert setup.status == "succeeded"
    assert setup.payment_method_ref.startswith("sbx_pm_") and setup.customer_ref.startswith("sbx_cus_")
    inbox = Inbox()
    assert sandbox.deliver(inbox) == 1
    event = sandbox.parse_callback(*inbox.deliveries[0])
    assert event.kind is CallbackKind.SETUP_SUCCEEDED
    assert (event.payment_method_ref, event.customer_ref) == (setup.payment_method_ref, setup.customer_ref)


def _signed_approval(sandbox) -> tuple[dict[str, str], bytes]:
    sandbox.approve(sandbox.create_payment(request()).provider_ref)
    [delivery] = sandbox.pending_deliveries()
    return delivery


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "stale", "missing", "malformed"])
def test_bad_signatures_are_rejected(sandbox, clock, case):
    headers, body = _signed_approval(sandbox)
    if case == "tampered":
        body = body.replace(b'"amount_fen":500', b'"amount_fen":5')
    elif case == "wrong_secret":
        headers = {"X-Sandbox-Signature": signed_callbacks.sign("other", body, int(clock.now().timestamp()))}
    elif case == "stale":
        clock.advance(301)
    elif case == "missing":
        headers = {"Content-Type": "application/json"}
    else:
        headers = {"X-Sandbox-Signature": "v1=abc"}
    with pytest.raises(InvalidInput) as e:
        sandbox.parse_callback(headers, body)
    assert e.value.code == "bad_signature"


def test_unknown_event_type_is_ignored(sandbox, clock):
    body = json.dumps({"id": "sbx_evt_x", "type": "payout.paid", "created": 1, "data": {}}).encode()
    headers = {"x-sandbox-signature": signed_callbacks.sign(SECRET, body, int(clock.now().timestamp()))}
    event = sandbox.parse_callback(headers, body)
    assert (event.kind, event.raw_type) == (CallbackKind.IGNORED, "payout.paid")


def test_list_transactions_window_and_tamper(sandbox, clock):
    start = clock.now()
    a = sandbox.create_payment(request("pay_a")).provider_ref
    clock.advance(3600)
    b = sandbox.create_payment(request("pay_b")).provider_ref
    sandbox.approve(b)
    sandbox.tamper_amount(b, 499)
    assert [t.provider_ref for t in sandbox.list_transactions(start, start + timedelta(hours=1))] == [a]
    [tb] = sandbox.list_transactions(start + timedelta(hours=1), start + timedelta(hours=2))
    assert (tb.provider_ref, tb.payment_id, tb.status, tb.amount_fen) == (b, "pay_b", PaymentStatus.SUCCEEDED, 499)


def test_lost_callbacks(sandbox):
    lost = sandbox.create_payment(request("pay_lost")).provider_ref
    kept = sandbox.create_payment(request("pay_kept")).provider_ref
    sandbox.approve(lost)
    sandbox.approve(kept)
    assert sandbox.forget_callbacks(lost) == 1
    sandbox.drop_next_callbacks(1)
    sandbox.refund(kept, 100, refund_id="rf_lost", reason="x")
    inbox = Inbox()
    assert sandbox.deliver(inbox) == 1
    assert sandbox.parse_callback(*inbox.deliveries[0]).provider_ref == kept
    # The provider still has the lost payment: reconciliation will find it.
    assert sandbox.payment(lost).status is PaymentStatus.SUCCEEDED


@settings(max_examples=60, deadline=None)
@given(
    events=st.integers(min_value=1, max_value=6),
    duplicates=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6),
    reverse=st.booleans(),
    delays=st.lists(st.sampled_from([0, 30, 90]), min_size=1, max_size=6),
)
def test_every_event_arrives_at_least_once(events, duplicates, reverse, delays):
    clock = ManualClock()
    sandbox = SandboxProvider(clock, webhook_secret=SECRET)
    expected = 0
    for i in range(events):
        dup = duplicates[i % len(duplicates)]
        sandbox.configure(duplicates=dup, delay_s=delays[i % len(delays)], reverse_order=reverse)
        sandbox.approve(sandbox.create_payment(request(f"pay_{i}")).provider_ref)
        expected += 1 + dup
    produced = {json.loads(body)["id"] for _, body in sandbox.pending_deliveries()}
    inbox = Inbox()
    sent = sandbox.deliver(inbox)
    clock.advance(100)
    sent += sandbox.deliver(inbox)
    assert sent == expected == len(inbox.deliveries)
    assert {sandbox.parse_callback(h, b).event_id for h, b in inbox.deliveries} == produced
    assert len(produced) == events


def test_concurrent_retries_create_one_intent(sandbox, clock):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        refs = set(pool.map(lambda _: sandbox.create_payment(request()).provider_ref, range(32)))
    assert len(refs) == 1
    assert len(sandbox.list_transactions(clock.now(), clock.now() + timedelta(seconds=1))) == 1
