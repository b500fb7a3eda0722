"""A citizen pays several of their own due bills with one payment (/v1/me/payments, issue 14)."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import admin_token, body, principal, route
from shared.bootstrap import services


@route("/v1/me/payments", methods=["POST"], authorizer=admin_token, content_types=["application/json"])
def pay_my_bills_together():
    data = body()
    payment = services().pay_together.pay(principal(), data.get("bill_ids"), data.get("channel"))
    return json_response(payment.model_dump(mode="json", include={
        "payment_id", "bill_id", "allocations", "channel", "amount_fen", "state", "next_action_url", "created_at",
    }), 201)  # fmt: skip
