"""Citizens' sign-in by phone (/v1/auth): a code by text message, then a citizen token for /v1/me."""

from __future__ import annotations

from functions.api.errors import json_response
from functions.api.http import body, route
from shared.bootstrap import services


@route("/v1/auth/sms-code", methods=["POST"], content_types=["application/json"])
def send_login_code():
    return json_response(services().phone_login.send_code(body().get("phone")), 201)


@route("/v1/auth/token", methods=["POST"], content_types=["application/json"])
def sign_in():
    data = body()
    return json_response(services().phone_login.sign_in(data.get("phone"), data.get("code"), data.get("challenge")))
