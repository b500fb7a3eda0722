"""The local stack as a newcomer meets it (issue 14 §3): the device CLI, the registry samples as-is, the
local SMS inbox and payer page, demo heartbeats, request schemas of /v1/me and one offset on timestamps."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from functions.api import openapi
from functions.api.app import app
from infra.local import demo_devices, payment_app
from shared.auth import Role
from shared import tokens
from tools import device_cli

SAMPLES = Path(__file__).resolve().parents[1] / "events" / "samples" / "v1"


def test_cli_takes_the_api_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("TONGTING_API_PORT", "18140")
    assert device_cli.default_api() == "http://127.0.0.1:18140"
    monkeypatch.delenv("TONGTING_API_PORT")
    assert device_cli.default_api() == "http://127.0.0.1:8000"


@pytest.mark.parametrize(("text", "delta"), [("3h", timedelta(hours=3)), ("90m", timedelta(minutes=90)),
                                              ("1h30m", timedelta(minutes=90)), ("2d", timedelta(days=2))])
def test_cli_dates_an_event_in_the_past(text, delta):
    assert device_cli.parse_ago(text) == delta


@pytest.mark.parametrize("bad", ["", "3", "three hours", "3h and more"])
def test_cli_refuses_a_vague_ago(bad):
    with pytest.raises(Exception, match="--ago"):
        device_cli.parse_ago(bad)


def test_cli_entry_three_hours_ago_is_priced_as_three_hours(stack, city, clock, monkeypatch, tmp_path):
    """README's "entry 3 h ago, exit now" in-process: the CLI's body with --ago, sent through the API."""
    from chalice.test import Client

    monkeypatch.setattr(device_cli, "datetime", _FrozenDatetime.at(clock.now()))
    sent: list[dict] = []

    def capture(url, device, secret, body):
        sent.append(json.loads(body))
        with Client(app) as client:
            from shared.protocol import signing

            resp = client.http.post("/v1/events", body=body,
                                    headers=signing.signed_headers(device, secret, body, int(clock.now().timestamp())))
            return resp.status_code, json.loads(resp.body)

    monkeypatch.setattr(device_cli, "send", capture)
    args = [f"--secret={city.secrets['lx-in1']}", "--lot", city.enclosed, "--plate", "苏B12345"]
    assert device_cli.main(["entry", "--device", "lx-in1", "--ago", "3h", *args]) == 0
    assert datetime.fromisoformat(sent[0]["occurred_at"]) == clock.now() - timedelta(hours=3)
    assert sent[0]["occurred_at"].endswith("+08:00") and sent[0]["lane"] == "in-1"


class _FrozenDatetime(datetime):
    _now: datetime

    @classmethod
    def at(cls, now: datetime):
        return type("Frozen", (cls,), {"_now": now})

    @classmethod
    def now(cls, tz=None):
        return cls._now.astimezone(tz)


def test_cli_without_credentials_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(device_cli, "LOCAL_DIR", tmp_path)
    with pytest.raises(SystemExit, match="register"):
        device_cli.main(["entry", "--device", "nobody"])


def test_registry_samples_register_as_they_are_and_their_devices_post_the_batch_sample(api, stack, clock):
    key = stack.services.token_key()
    admin = {"Authorization": "Bearer " + tokens.mint(key, subject="t", role=Role.CITY_ADMIN, now=clock.now()),
             "Content-Type": "application/json"}
    for path, sample in (("/v1/admin/operators", "operator.json"), ("/v1/admin/lots", "lot.json"),
                         ("/v1/admin/devices", "device.json")):
        resp = api.post(path, headers=admin, body=(SAMPLES / sample).read_bytes())
        assert resp.status_code == 201, (sample, resp.body)
    secret = json.loads(resp.body)["secret"]
    from shared.protocol import signing

    body = (SAMPLES / "event-batch.json").read_bytes()
    resp = api.post("/v1/events", body=body, headers=signing.signed_headers("lx-nanchang-st-01-e1", secret, body,
                                                                          int(clock.now().timestamp())))
    acks = json.loads(resp.body)["acks"]
    assert resp.status_code == 200 and [a["status"] for a in acks] == ["accepted"] * len(acks)


def test_every_me_operation_with_a_body_has_a_request_schema():
    doc = openapi.document(app)
    for path, ops in doc["paths"].items():
        if path.startswith("/v1/me/") and "post" in ops and not path.endswith(("consent", "payment-method", "{verb}")):
            assert "requestBody" in ops["post"], path
    verify = doc["paths"]["/v1/me/plates/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(doc["components"]["schemas"][verify["$ref"].rsplit("/", 1)[1]]["properties"]) == {"plate", "code"}


def test_timestamps_in_answers_carry_the_shanghai_offset(api, stack, city, device, clock):
    from tests.support import gate_event

    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    stack.pump_streams()  # the device's last-seen, recorded from the acks stream
    key = stack.services.token_key()
    admin = {"Authorization": "Bearer " + tokens.mint(key, subject="t", role=Role.CITY_ADMIN, now=clock.now())}
    text = api.get(f"/v1/admin/lots/{city.enclosed}/status", headers=admin).body.decode()
    stamps = [v for v in _strings(json.loads(text)) if len(v) >= 19 and v[4] == "-" and v[10] == "T"]
    assert stamps and all(v.endswith("+08:00") for v in stamps), stamps


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_demo_heartbeats_keep_every_lot_online(stack, clock):
    from infra.local.seed import seed

    credentials = seed(stack.services.registry, per_district=1)
    clock.advance(minutes=30)
    assert demo_devices.send_heartbeats(stack.services, credentials) == 7
    stack.pump_streams()  # the devices' last-seen, recorded from the acks stream
    stack.services.liveness.run()
    lots = {c["lot_id"] for c in credentials.values() if c["lot_id"]}
    assert all(stack.services.availability.lot(lot).online for lot in lots)


@pytest.fixture
def pay_app(stack):
    server = payment_app.serve(stack.services.providers, 0, verifier=stack.services.plate_verifier)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()  # prompt shutdown
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _get(url: str, accept: str = "text/html") -> tuple[int, str, dict]:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=5) as resp:
        return resp.status, resp.read().decode(), dict(resp.headers)


def test_the_plate_code_is_readable_in_the_local_sms_inbox(stack, pay_app):
    stack.services.plate_verifier.send_code("苏B12345", "654321")
    status, page, headers = _get(f"{pay_app}/sms")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "654321" in page and "苏B12345" in page
    assert _get(f"{pay_app}/sms.json", "application/json")[1].count("654321") >= 1


def test_the_payer_page_is_a_page_and_brings_the_payer_back(stack, pay_app, api, city, device, clock):
    from tests.support import gate_event, price_lot
    from shared.tariffs.samples import ZHUMADIAN_CLASS1

    price_lot(stack.services, city.enclosed, ZHUMADIAN_CLASS1)
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    clock.advance(hours=3)
    device("lx-out1").post(gate_event("exit", "苏B12345", clock.now(), lane="out-1"))
    bill = json.loads(api.get(f"/v1/pay/{city.enclosed}?lane=out-1").body)["bill"]
    paid = json.loads(api.post(f"/v1/pay/{city.enclosed}/payments", headers={"Content-Type": "application/json"},
                               body=json.dumps({"bill_id": bill["bill_id"], "channel": "wechat_pay"})).body)
    ref = stack.services.payments.payment(paid["payment_id"]).provider_ref
    status, page, _ = _get(f"{pay_app}/pay/{ref}?return=http://127.0.0.1:1/receipt")
    assert status == 200 and "微信支付" in page and 'id="approve"' in page and "http://127.0.0.1:1/receipt" in page
    form = urllib.request.Request(f"{pay_app}/pay/{ref}/approve", method="POST",
                                  data=b"return=http%3A%2F%2F127.0.0.1%3A1%2Freceipt",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})

    class NoFollow(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    with pytest.raises(urllib.error.HTTPError) as seen:
        urllib.request.build_opener(NoFollow).open(form, timeout=5)
    assert seen.value.code == 303 and seen.value.headers["Location"] == "http://127.0.0.1:1/receipt"
    assert stack.services.providers["sandbox"].payment(ref).status.value == "succeeded"


def test_the_payer_page_never_redirects_off_this_machine():
    assert payment_app._local_return("https://evil.example/phish") is None
    assert payment_app._local_return("http://127.0.0.1:18140/web/pay.html") == "http://127.0.0.1:18140/web/pay.html"


def test_phone_sign_in_gives_a_citizen_token_only_for_the_right_code(api, stack, clock):
    post = lambda path, data: api.post(path, headers={"Content-Type": "application/json"}, body=json.dumps(data).encode())  # noqa: E731
    assert json.loads(post("/v1/auth/sms-code", {"phone": "12345"}).body)["code"] == "bad_phone"
    resp = post("/v1/auth/sms-code", {"phone": "138 0013 8000"})
    assert resp.status_code == 201
    challenge = json.loads(resp.body)["challenge"]
    code = stack.services.plate_verifier.messages[-1]["code"]
    assert stack.services.plate_verifier.messages[-1]["to"] == "13800138000" and "13800138000" not in challenge
    wrong = "000000" if code != "000000" else "111111"
    bad = post("/v1/auth/token", {"phone": "13800138000", "code": wrong, "challenge": challenge})
    assert (bad.status_code, json.loads(bad.body)["code"]) == (401, "wrong_code")
    other = post("/v1/auth/token", {"phone": "13900139000", "code": code, "challenge": challenge})
    assert other.status_code == 401  # the code belongs to the phone it was sent to
    ok = json.loads(post("/v1/auth/token", {"phone": "13800138000", "code": code, "challenge": challenge}).body)
    principal = tokens.verify(stack.services.token_key(), ok["token"], now=clock.now())
    assert principal.role is Role.CITIZEN and "13800138000" not in principal.subject
    clock.advance(minutes=6)
    late = post("/v1/auth/token", {"phone": "13800138000", "code": code, "challenge": challenge})
    assert json.loads(late.body)["code"] == "code_expired"


def test_a_browser_opening_the_pay_code_gets_the_page_and_a_script_the_json(api, city):
    page = api.get(f"/v1/pay/{city.enclosed}?plate=苏B12345", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["Content-Type"].startswith("text/html") and b"/web/pay.js" in page.body
    data = api.get(f"/v1/pay/{city.enclosed}?plate=苏B12345", headers={"Accept": "application/json"})
    assert data.headers["Content-Type"].startswith("application/json")
    assert api.get("/web/../app.py").status_code in (403, 404) and api.get("/web/nothing.html").status_code == 404
