"""Phone sign-in cannot be brute-forced: wrong codes and code requests are limited per phone (429 with
``retry_after``), a new code does not reset the wrong-code budget, and a code signs in once."""

from __future__ import annotations

import json

import pytest

from shared.citizens.login import SENDS, WRONG_CODES
from shared.errors import InvalidInput, TooManyRequests, Unauthenticated

PHONE = "13800138000"


def _code(services) -> str:
    return services.plate_verifier.messages[-1]["code"]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_wrong_codes_lock_the_phone_even_for_the_right_code_and_a_new_code_does_not_reset_them(services, clock):
    login = services.phone_login
    hourly = WRONG_CODES[0][0]
    challenge = login.send_code(PHONE)["challenge"]
    for _ in range(hourly - 1):
        with pytest.raises(Unauthenticated) as wrong:
            login.sign_in(PHONE, _wrong(_code(services)), challenge)
        assert wrong.value.code == "wrong_code"
    challenge = login.send_code(PHONE)["challenge"]  # a fresh code: the budget is the phone's, not the code's
    with pytest.raises(Unauthenticated):
        login.sign_in(PHONE, _wrong(_code(services)), challenge)
    challenge = login.send_code(PHONE)["challenge"]
    with pytest.raises(TooManyRequests) as locked:
        login.sign_in(PHONE, _code(services), challenge)  # the right code, but the phone is locked
    assert locked.value.code == "sign_in_locked" and 1 <= locked.value.retry_after <= 3600
    assert locked.value.as_dict()["retry_after"] == locked.value.retry_after
    clock.advance(seconds=locked.value.retry_after)
    challenge = login.send_code(PHONE)["challenge"]
    assert login.sign_in(PHONE, _code(services), challenge)["token"]  # the window passed


def test_the_daily_wrong_code_budget_outlasts_the_hourly_windows(services, clock):
    login = services.phone_login
    (hourly, _), (daily, _) = WRONG_CODES
    wrong = 0
    while wrong < daily:
        challenge = login.send_code(PHONE)["challenge"]
        for _ in range(min(hourly, daily - wrong)):
            with pytest.raises(Unauthenticated):
                login.sign_in(PHONE, _wrong(_code(services)), challenge)
            wrong += 1
        clock.advance(hours=1)
    challenge = login.send_code(PHONE)["challenge"]
    with pytest.raises(TooManyRequests) as locked:
        login.sign_in(PHONE, _code(services), challenge)  # a fresh hour, but the day's budget is spent
    day_ends = (int(clock.now().timestamp()) // 86400 + 1) * 86400
    assert locked.value.retry_after == day_ends - int(clock.now().timestamp())


def test_a_right_code_does_not_use_the_wrong_code_budget(services):
    login = services.phone_login
    hourly = WRONG_CODES[0][0]
    for _ in range(2):  # twice (hourly - 1) wrong codes with a right one between: never locked
        challenge = login.send_code(PHONE)["challenge"]
        for _ in range(hourly - 1 if _ == 0 else 0):
            with pytest.raises(Unauthenticated):
                login.sign_in(PHONE, _wrong(_code(services)), challenge)
        assert login.sign_in(PHONE, _code(services), challenge)["token"]
    challenge = login.send_code(PHONE)["challenge"]
    with pytest.raises(Unauthenticated):
        login.sign_in(PHONE, _wrong(_code(services)), challenge)  # the hour's last wrong try
    with pytest.raises(TooManyRequests):
        login.sign_in(PHONE, _code(services), challenge)


def test_another_phones_wrong_codes_do_not_lock_this_one(services):
    login = services.phone_login
    challenge = login.send_code("13900139000")["challenge"]
    for _ in range(WRONG_CODES[0][0]):
        with pytest.raises(Unauthenticated):
            login.sign_in("13900139000", _wrong(_code(services)), challenge)
    challenge = login.send_code(PHONE)["challenge"]
    assert login.sign_in(PHONE, _code(services), challenge)["token"]


def test_code_requests_are_limited_per_phone(services, clock):
    login = services.phone_login
    sent = len(services.plate_verifier.messages)
    for _ in range(SENDS[0][0]):
        login.send_code(PHONE)
    with pytest.raises(TooManyRequests) as limited:
        login.send_code("+86 138-0013-8000")  # the same phone written another way
    assert limited.value.code == "rate_limited" and 1 <= limited.value.retry_after <= 3600
    assert len(services.plate_verifier.messages) == sent + SENDS[0][0]  # the refused request texted nobody
    login.send_code("13900139000")  # another phone is not limited by this one
    clock.advance(seconds=limited.value.retry_after)
    login.send_code(PHONE)


def test_a_code_signs_in_once(services):
    login = services.phone_login
    challenge = login.send_code(PHONE)["challenge"]
    code = _code(services)
    assert login.sign_in(PHONE, code, challenge)["token"]
    with pytest.raises(Unauthenticated) as replay:
        login.sign_in(PHONE, code, challenge)
    assert replay.value.code == "code_used"


def test_the_api_answers_429_with_retry_after_in_the_plate_limits_shape(api, services):
    post = lambda path, data: api.post(path, headers={"Content-Type": "application/json"}, body=json.dumps(data).encode())  # noqa: E731
    challenge = json.loads(post("/v1/auth/sms-code", {"phone": PHONE}).body)["challenge"]
    for _ in range(WRONG_CODES[0][0]):
        assert post("/v1/auth/token", {"phone": PHONE, "code": _wrong(_code(services)), "challenge": challenge}).status_code == 401
    resp = post("/v1/auth/token", {"phone": PHONE, "code": _code(services), "challenge": challenge})
    body = json.loads(resp.body)
    assert resp.status_code == 429 and body["code"] == "sign_in_locked"
    assert isinstance(body["retry_after"], int) and resp.headers["Retry-After"] == str(body["retry_after"])
    assert set(body) >= {"code", "message", "retry_after"}


def test_a_forged_challenge_is_a_clear_400_and_spends_no_try(services):
    login = services.phone_login
    login.send_code(PHONE)
    for forged in ("9999999999.摘要", "9999999999." + "g" * 64, "9999999999." + "a" * 5000, "x.y", ""):
        with pytest.raises(InvalidInput) as bad:
            login.sign_in(PHONE, "123456", forged)
        assert bad.value.code == "bad_challenge"
    assert all(services.stores.login_counters.count(k) == 0 for k in services.stores.login_counters.counts if k.startswith("wrong#"))
