"""The public service window: availability, the API's own description, health."""

from __future__ import annotations

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import app, query_float, query_int, route
from shared.bootstrap import services


# Public service window
@route("/v1/lots", methods=["GET"])
def nearby_lots():
    lat, lon = query_float("lat", low=-90, high=90, code="bad_coordinates"), query_float("lon", low=-180, high=180, code="bad_coordinates")
    radius = query_float("radius_m", 2000, low=1, high=50_000)
    limit = query_int("limit", 50, 1, 200)
    lots = services().availability.nearby(lat, lon, radius, limit)
    return json_response({"lots": [v.as_json() for v in lots]})


@route("/v1/lots/{lot_id}", methods=["GET"])
def lot_availability(lot_id):
    return json_response(services().availability.lot(lot_id).as_json())


@route("/openapi.json", methods=["GET"])
def openapi_document():
    return json_response(openapi.document(app))


@route("/health", methods=["GET"])
def health():
    return json_response({"status": "ok"})
