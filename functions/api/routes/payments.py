"""The one payment code (通停通付): quotes, the pay page of a lot or lane, payments and provider callbacks."""

from __future__ import annotations

from functions.api.errors import json_response
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.api.http import app, body, parsed, route
from functions.api.routes import web
from shared import plates
from shared.bootstrap import services
from shared.errors import InvalidInput
from shared.payments import queries
from shared.payments.model import PaymentSource
from shared.payments.provider import Channel


def _query() -> dict:
    return app.current_request.query_params or {}


class PaymentRequest(BaseModel):
    """The body of a pay-code payment: which bill, through which channel, with which coupon."""

    model_config = ConfigDict(extra="forbid", strict=True)
    bill_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:#\-]+$")]
    channel: Literal["wechat_pay", "alipay", "unionpay"]
    coupon: Annotated[str, Field(min_length=1, max_length=32)] | None = None


def _public_bill(bill) -> dict:
    """What anyone holding the pay code sees: the amount and the stay, the plate masked."""
    view = bill.view()
    view["plate"] = plates.mask(bill.plate)
    return {k: v for k, v in view.items() if k not in ("payments", "coupons", "session_id")}


@route("/v1/lots/{lot_id}/quote", methods=["GET"])
def quote(lot_id):
    q = _query()
    svc = services()
    lot = svc.registry.lots.require(lot_id)
    entered = queries.instant("entry", q.get("entry"))
    exited = queries.instant("exit", q.get("exit"), default=svc.clock.now())
    plate = queries.plate(q.get("plate"))
    vclass, colour = queries.vehicle(q.get("vehicle_class"), q.get("plate_colour"), plate)
    priced = svc.tariffs.price(lot, entered, exited, vclass, colour)
    if priced is None:
        return json_response({"lot_id": lot_id, "amount_fen": 0, "reason": "no_tariff"})
    return json_response({"lot_id": lot_id, "vehicle_class": vclass.value, "plate_colour": colour.value, **priced.as_dict()})


@route("/v1/pay/{lot_id}", methods=["GET"])
def pay_page(lot_id):
    if web.wants_page():  # the printed QR code opened in a phone's browser
        return web.static("pay.html")
    q = _query()
    svc = services()
    lot = svc.registry.lots.require(lot_id)
    plate = queries.plate(q.get("plate"))
    parked = svc.sessions.parked(lot_id, plate.text) if plate else None
    bill = svc.payments.bill_for_pay_code(lot, lane=q.get("lane"), plate=plate.text if plate else None, open_session=parked)
    # A stranger typing a plate learns at most what is due at this lot, the plate masked: arrears
    # incurred elsewhere (where, when, how much) are shown only to the plate's owner in the service window.
    arrears = [svc.billing.get(c.bill_id) for c in svc.arrears.open_cases(bill.plate) if c.lot_id == lot_id]
    return json_response({
        "lot_name": lot.name,
        "bill": _public_bill(bill),
        "arrears": [_public_bill(b) for b in arrears if b.due_fen],  # payable together: POST /v1/bills/{id}/payments
        "channels": [c.value for c in Channel if c not in (Channel.ETC, Channel.LEGACY)],
    })  # fmt: skip


@route("/v1/pay/{lot_id}/payments", methods=["POST"], content_types=["application/json"])
def start_payment(lot_id):
    return _pay(body(), lot_id)


@route("/v1/bills/{bill_id}/payments", methods=["POST"], content_types=["application/json"])
def pay_bill(bill_id):
    """Any bill by its id, wherever it was incurred: arrears shown at an exit or in the service window."""
    return _pay({**body(), "bill_id": bill_id}, None)


def _pay(data: dict, lot_id: str | None):
    svc = services()
    if not isinstance(data.get("channel"), str) or data["channel"] not in ("wechat_pay", "alipay", "unionpay"):
        raise InvalidInput("channel must be wechat_pay, alipay or unionpay", code="bad_channel")
    request = parsed(PaymentRequest, data)
    channel = Channel(request.channel)
    bill = svc.billing.get(request.bill_id)
    if lot_id is not None and bill.lot_id != lot_id:
        raise InvalidInput("the bill is not of this lot", code="bill_not_of_lot")
    if request.coupon:
        bill = svc.coupons.redeem(request.coupon, bill)
    payment = svc.payments.pay(bill, channel, PaymentSource.PAY_CODE)
    return json_response(_payment_view(payment), 201)


def _payment_view(payment) -> dict:
    return payment.model_dump(mode="json", include={
        "payment_id", "bill_id", "channel", "amount_fen", "state", "next_action_url", "decline_code", "created_at",
        "allocations",  # issue 14: a payment of several bills says how much went to each
    })  # fmt: skip


@route("/v1/payments/{payment_id}", methods=["GET"])
def payment_status(payment_id):
    return json_response(_payment_view(services().payments.payment(payment_id)))


@route("/v1/payments/callbacks/{provider}", methods=["POST"])
def provider_callback(provider):
    req = app.current_request
    return json_response(services().payments.callback(provider, req.headers, req.raw_body or b""))
