"""Devices and lot systems posting protocol v1 events."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import app, dump, route
from shared.bootstrap import services


# Devices and lot systems (protocol v1)
@route("/v1/events", methods=["POST"], content_types=["application/json"])
def post_events():
    req = app.current_request
    result = services().ingest.handle(req.headers, req.raw_body or b"")
    acks = [dump(a) for a in result.acks]
    if result.single and result.acks[0].status.value == "rejected":
        ack = result.acks[0]
        return json_response({"code": ack.reason, "message": ack.message, "acks": acks}, 400)
    return json_response({"acks": acks})


@route("/v1/lot-systems/{adapter}/events", methods=["POST"], content_types=["application/json"])
def post_lot_system_events(adapter):
    req = app.current_request
    result = services().ingest.handle(req.headers, req.raw_body or b"", adapter=adapter)
    return json_response({"acks": [dump(a) for a in result.acks]})
