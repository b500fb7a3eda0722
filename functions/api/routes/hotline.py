"""The 24-hour hotline (S8): staff record calls and answer tickets, citizens raise and follow theirs in the
service window, phone callers follow theirs with the follow code, supervision reads the statistics."""

from __future__ import annotations

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import admin_token, body, principal, query_text, route
from shared.bootstrap import services
from shared.errors import Forbidden
from shared.hotline.model import Complaint, Confirmation
from shared.hotline.service import public_view, view

ADMIN = openapi.ADMIN
openapi.OPERATIONS.update({
    ("POST", "/v1/admin/hotline/tickets"): ("Record a hotline call as a ticket, dispatched to the lot's operator or the district; returns the caller's follow_code once", ADMIN, Complaint, None),
    ("GET", "/v1/admin/hotline/tickets"): ("The caller's tickets: an operator its lots', district staff their district's, the city all (contacts masked for operators and auditors)", ADMIN, None, None),
    ("GET", "/v1/admin/hotline/tickets/{ticket_id}"): ("One ticket with its audit trail", ADMIN, None, None),
    ("POST", "/v1/admin/hotline/tickets/{ticket_id}/resolve"): ("Resolve a ticket: {resolution}; the citizen confirms or it closes after 72 h", ADMIN, None, None),
    ("GET", "/v1/admin/hotline/stats"): ("Ticket volume and on-time rate per district and per operator (supervision)", ADMIN, None, None),
    ("POST", "/v1/me/tickets"): ("Raise a complaint or request from the service window", ADMIN, Complaint, None),
    ("GET", "/v1/me/tickets"): ("My tickets", ADMIN, None, None),
    ("GET", "/v1/me/tickets/{ticket_id}"): ("One of my tickets with its progress", ADMIN, None, None),
    ("POST", "/v1/me/tickets/{ticket_id}/confirm"): ("Answer a resolution: {satisfied, note?}; not satisfied reopens it", ADMIN, Confirmation, None),
    ("GET", "/v1/hotline/tickets/{ticket_id}"): ("A phone caller follows their ticket (?code= the follow code): progress only", None, None, None),
    ("POST", "/v1/hotline/tickets/{ticket_id}/confirm"): ("A phone caller answers a resolution: {code, satisfied, note?}", None, None, None),
})  # fmt: skip
openapi.CREATED.update({("POST", "/v1/admin/hotline/tickets"), ("POST", "/v1/me/tickets")})


@route("/v1/admin/hotline/tickets", methods=["POST"], authorizer=admin_token)
def record_call():
    who = principal()
    ticket, code = services().hotline.record_call(who, body())
    return json_response({"ticket": view(who, ticket), "follow_code": code}, 201)


@route("/v1/admin/hotline/tickets", methods=["GET"], authorizer=admin_token)
def ticket_queue():
    who = principal()
    return json_response({"tickets": [view(who, t) for t in services().hotline.queue(who)]})


@route("/v1/admin/hotline/tickets/{ticket_id}", methods=["GET"], authorizer=admin_token)
def get_ticket(ticket_id):
    who = principal()
    return json_response(view(who, services().hotline.get(who, ticket_id)))


@route("/v1/admin/hotline/tickets/{ticket_id}/resolve", methods=["POST"], authorizer=admin_token)
def resolve_ticket(ticket_id):
    who = principal()
    return json_response(view(who, services().hotline.resolve(who, ticket_id, body().get("resolution"))))


@route("/v1/admin/hotline/stats", methods=["GET"], authorizer=admin_token)
def ticket_stats():
    figures = services().hotline.stats(principal())
    return json_response({k: [s.model_dump(mode="json") for s in v] for k, v in figures.items()})


@route("/v1/me/tickets", methods=["POST"], authorizer=admin_token)
def raise_ticket():
    who = principal()
    return json_response(view(who, services().hotline.raise_ticket(who, body())), 201)


@route("/v1/me/tickets", methods=["GET"], authorizer=admin_token)
def my_tickets():
    who = principal()
    if not who.is_citizen:
        raise Forbidden("only a citizen's own account may do this", code="citizen_only")
    return json_response({"tickets": [view(who, t) for t in services().hotline.queue(who)]})


@route("/v1/me/tickets/{ticket_id}", methods=["GET"], authorizer=admin_token)
def my_ticket(ticket_id):
    who = principal()
    return json_response(view(who, services().hotline.get(who, ticket_id)))


@route("/v1/me/tickets/{ticket_id}/confirm", methods=["POST"], authorizer=admin_token)
def confirm_my_ticket(ticket_id):
    who = principal()
    return json_response(view(who, services().hotline.confirm(who, ticket_id, body())))


@route("/v1/hotline/tickets/{ticket_id}", methods=["GET"])
def follow_ticket(ticket_id):
    code = query_text("code")
    return json_response(public_view(services().hotline.followed(ticket_id, code)))


@route("/v1/hotline/tickets/{ticket_id}/confirm", methods=["POST"])
def caller_confirms(ticket_id):
    data = body()
    return json_response(public_view(services().hotline.confirm(None, ticket_id, data, data.get("code"))))
