"""Protocol v1 transport: every way a request can fail authentication gets 401 with its code."""

import pytest

from tests.support import gate_event


def test_unknown_device_is_401(device, clock):
    poster = device("lx-in1")
    poster.device_id = "no-such-device"
    status, body = poster.post(gate_event("entry", "苏B12345", clock.now()))
    assert (status, body["code"]) == (401, "unknown_device")


def test_wrong_signature_is_401(device, clock):
    status, body = device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()), secret="not-the-secret")
    assert (status, body["code"]) == (401, "bad_signature")


def test_tampered_body_is_401(device, clock, api):
    import json

    from shared.protocol import signing

    body = json.dumps(gate_event("entry", "苏B12345", clock.now())).encode()
    headers = signing.signed_headers("lx-in1", device("lx-in1").secret, body, int(clock.now().timestamp()))
    resp = api.post("/v1/events", headers=headers, body=body.replace(b"12345", b"12346"))
    assert resp.status_code == 401 and json.loads(resp.body)["code"] == "bad_signature"


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamp_outside_window_is_401(device, clock, skew):
    ts = int(clock.now().timestamp()) + skew
    status, body = device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()), ts=ts)
    assert (status, body["code"]) == (401, "timestamp_out_of_window")


def test_timestamp_inside_window_is_accepted(device, clock):
    ts = int(clock.now().timestamp()) - 299
    status, _ = device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()), ts=ts)
    assert status == 200


def test_replayed_request_is_401_and_changes_nothing(device, clock, platform):
    cam = device("lx-in1")
    event, ts = gate_event("entry", "苏B12345", clock.now()), int(clock.now().timestamp())
    assert cam.post(event, nonce="nonce-0001", ts=ts)[0] == 200
    clock.advance(seconds=30)
    status, body = cam.post(event, nonce="nonce-0001", ts=ts)  # the same signed request: its nonce is on the ack
    assert (status, body["code"]) == (401, "nonce_replayed")
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 99  # only the first entry counted


def test_replayed_heartbeat_and_batch_are_401(device, clock, platform):
    cam = device("lx-in1")
    hb = {"event_id": "hb-1", "type": "heartbeat", "lot_id": "lx-nanchang-st-01", "occurred_at": clock.now().isoformat()}
    assert cam.post(hb, nonce="nonce-0002")[0] == 200
    assert platform.services.stores.acks.get_record("lx-nanchang-st-01", "hb-1").nonce == "nonce-0002"
    status, body = cam.post(hb, nonce="nonce-0002")  # one heartbeat: its nonce is on its ack
    assert (status, body["code"]) == (401, "nonce_replayed")
    batch = {"events": [{**hb, "event_id": "hb-2"}, {**hb, "event_id": "hb-3"}]}
    assert cam.post(batch, nonce="nonce-0004")[0] == 200
    assert platform.services.stores.acks.get_record("lx-nanchang-st-01", "hb-2").nonce is None
    status, body = cam.post(batch, nonce="nonce-0004")  # a batch: the nonces table refuses it
    assert (status, body["code"]) == (401, "nonce_replayed")


def test_a_nonce_reused_on_another_body_after_a_vehicle_event_is_not_a_replay(device, clock, platform):
    """Issue 10: a one-vehicle-event request keeps its nonce on the event's ack, not in the nonces, so the
    guard is "this signed request once", not "this nonce once per device". A second body under the same
    nonce was signed with the device's secret: no one else can send it (events/README.md, replay protection)."""
    cam = device("lx-in1")
    assert cam.post(gate_event("entry", "苏B12345", clock.now()), nonce="nonce-0003")[0] == 200
    status, body = cam.post(gate_event("entry", "苏B99999", clock.now()), nonce="nonce-0003")
    assert status == 200 and body["acks"][0]["status"] == "accepted"
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 98


def test_missing_headers_is_401(api):
    resp = api.post("/v1/events", headers={"Content-Type": "application/json"}, body=b"{}")
    assert resp.status_code == 401


def test_deactivated_device_is_401(device, clock, platform):
    from tests.support import CITY_ADMIN

    reg = platform.services.registry
    reg.update_device(CITY_ADMIN, "lx-in1", {"active": False, "version": 1})
    status, body = device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    assert (status, body["code"]) == (401, "device_inactive")


def test_device_writing_for_another_lot_is_403_and_writes_nothing(device, clock, platform):
    batch = {"events": [gate_event("entry", "苏B11111", clock.now()),
                        gate_event("entry", "苏B22222", clock.now(), lot="xw-taihu-plaza")]}
    status, body = device("lx-in1").post(batch)
    assert (status, body["code"]) == (403, "lot_forbidden")
    assert platform.services.availability.lot("lx-nanchang-st-01").free == 100


def test_district_gateway_writes_for_its_district_only(device, clock):
    gw = device("gw-liangxi")
    assert gw.post(gate_event("entry", "苏B12345", clock.now()))[0] == 200
    status, body = gw.post(gate_event("entry", "苏B12345", clock.now(), lot="xw-taihu-plaza"))
    assert (status, body["code"]) == (403, "lot_forbidden")


def test_oversized_body_is_413(device):
    status, body = device("lx-in1").post(None, raw=b'{"events": [' + b" " * (256 * 1024) + b"]}")
    assert (status, body["code"]) == (413, "body_too_large")


def test_not_json_is_400(device):
    status, body = device("lx-in1").post(None, raw="entry 苏B12345".encode())
    assert (status, body["code"]) == (400, "invalid_json")


def test_rotated_secret_replaces_the_old_one(device, clock, platform):
    from tests.support import CITY_ADMIN

    rotated = platform.services.registry.rotate_secret(CITY_ADMIN, "lx-in1", version=1)
    old = device("lx-in1")
    clock.advance(1)
    # The vault caches by ciphertext, so the old secret stops working at once.
    assert old.post(gate_event("entry", "苏B12345", clock.now()))[1]["code"] == "bad_signature"
    assert old.post(gate_event("entry", "苏B12345", clock.now()), secret=rotated.secret)[0] == 200


def test_device_secrets_open_without_kms_once_the_data_key_is_known(stack):
    """Envelope encryption: one KMS Decrypt per data key and container, then every device opens locally;
    a ciphertext moved to another device does not open; values sealed with plain KMS still open."""
    import base64

    from cryptography.exceptions import InvalidTag

    from shared.adapters.aws import client
    from shared.adapters.device_secrets import DeviceSecretVault

    sealer = DeviceSecretVault()
    sealed = {f"dev-{i}": sealer.seal(f"dev-{i}", f"secret-{i}") for i in range(5)}
    assert all(v.startswith("v2.") and f"secret-{i}" not in v for i, v in enumerate(sealed.values()))
    assert len({v.split(".")[1] for v in sealed.values()}) == 1  # one data key for the batch

    calls = []
    kms = client("kms")
    original = kms.decrypt
    kms.decrypt = lambda **kw: calls.append(kw) or original(**kw)
    try:
        reader = DeviceSecretVault()  # a fresh container
        assert [reader.reveal(d, v) for d, v in sealed.items()] == [f"secret-{i}" for i in range(5)]
        assert len(calls) == 1
        with pytest.raises(InvalidTag):
            reader.reveal("dev-1", sealed["dev-0"])
    finally:
        kms.decrypt = original

    legacy = kms.encrypt(KeyId="alias/tongting-device-secrets", Plaintext=b"old-secret",
                         EncryptionContext={"device_id": "dev-9"})["CiphertextBlob"]
    assert DeviceSecretVault().reveal("dev-9", base64.b64encode(legacy).decode()) == "old-secret"
