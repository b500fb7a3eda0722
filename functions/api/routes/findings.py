"""Reconciliation findings for staff (issue 14's console): what the daily reconciliation could not settle."""

from __future__ import annotations

from functions.api import openapi
from functions.api.errors import json_response
from functions.api.http import admin_token, principal, route
from shared.bootstrap import services

openapi.OPERATIONS.update({
    ("GET", "/v1/admin/reconciliation/findings"): (
        "Reconciliation findings (lost callbacks, amount mismatches, payments missing at a provider): the city and "
        "auditors all, district staff and operators those of their bills", openapi.ADMIN, None, None),
})  # fmt: skip


@route("/v1/admin/reconciliation/findings", methods=["GET"], authorizer=admin_token)
def reconciliation_findings():
    return json_response({"findings": services().reconciliation.findings(principal())})
