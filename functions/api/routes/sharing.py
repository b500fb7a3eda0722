"""Off-peak and regional shared parking (S6, S12): offers (staff), applications (citizens), decisions,
renewals and cancellations. An approved application is a right its plates' exit bills honour."""

from __future__ import annotations

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import admin_token, body, dump, principal, query_text, route
from shared.bootstrap import services
from shared.sharing.model import Application, Offer

ADMIN = openapi.ADMIN
openapi.OPERATIONS.update({
    ("POST", "/v1/admin/sharing/offers"): ("Offer shared spaces: {offer_id, name, lot_ids (one lot or a pool in one district), windows [{weekdays, start, end}], spaces, monthly_fee_fen}", ADMIN, Offer, Offer),
    ("POST", "/v1/admin/sharing/offers/{offer_id}/withdraw"): ("Withdraw an offer (its operator, its district): {version, note?}; approved rights run to their term, pending applications are rejected", ADMIN, None, Offer),
    ("GET", "/v1/sharing/offers/{offer_id}"): ("A shared-parking offer with its free spaces (public)", None, None, None),
    ("POST", "/v1/sharing/offers/{offer_id}/applications"): ("Apply for a right: {plates (verified on my account), months}", ADMIN, None, Application),
    ("GET", "/v1/sharing/applications"): ("My applications (citizens), or an offer's (?offer=, its operator, district, auditors)", ADMIN, None, None),
    ("GET", "/v1/sharing/applications/{application_id}"): ("One application with its versioned history", ADMIN, None, Application),
    ("POST", "/v1/sharing/applications/{application_id}/decision"): ("Approve or reject: {decision, note?, version}", ADMIN, None, Application),
    ("POST", "/v1/sharing/applications/{application_id}/renew"): ("Extend an approved right: {months, version}", ADMIN, None, Application),
    ("POST", "/v1/sharing/applications/{application_id}/cancel"): ("Cancel an application or a right (frees its space): {version}", ADMIN, None, Application),
})  # fmt: skip
openapi.CREATED.update({("POST", "/v1/admin/sharing/offers"), ("POST", "/v1/sharing/offers/{offer_id}/applications")})


@route("/v1/admin/sharing/offers", methods=["POST"], authorizer=admin_token)
def create_offer():
    return json_response(dump(services().sharing.create_offer(principal(), body())), 201)


@route("/v1/admin/sharing/offers/{offer_id}/withdraw", methods=["POST"], authorizer=admin_token)
def withdraw_offer(offer_id):
    return json_response(dump(services().sharing.withdraw_offer(principal(), offer_id, body())))


@route("/v1/sharing/offers/{offer_id}", methods=["GET"])
def get_offer(offer_id):
    offer = services().sharing.offer(offer_id)
    view = offer.model_dump(mode="json", exclude={"created_by"})
    return json_response({**view, "free": max(0, offer.spaces - offer.granted)})


@route("/v1/sharing/offers/{offer_id}/applications", methods=["POST"], authorizer=admin_token)
def apply(offer_id):
    return json_response(dump(services().sharing.apply(principal(), offer_id, body())), 201)


@route("/v1/sharing/applications", methods=["GET"], authorizer=admin_token)
def applications():
    offer = query_text("offer")
    return json_response({"applications": [dump(a) for a in services().sharing.applications(principal(), offer)]})


@route("/v1/sharing/applications/{application_id}", methods=["GET"], authorizer=admin_token)
def get_application(application_id):
    return json_response(dump(services().sharing.application(principal(), application_id)))


@route("/v1/sharing/applications/{application_id}/decision", methods=["POST"], authorizer=admin_token)
def decide(application_id):
    return json_response(dump(services().sharing.decide(principal(), application_id, body())))


@route("/v1/sharing/applications/{application_id}/renew", methods=["POST"], authorizer=admin_token)
def renew(application_id):
    return json_response(dump(services().sharing.renew(principal(), application_id, body())))


@route("/v1/sharing/applications/{application_id}/cancel", methods=["POST"], authorizer=admin_token)
def cancel(application_id):
    return json_response(dump(services().sharing.cancel(principal(), application_id, body())))
