"""Cognito's custom-auth triggers (``functions/citizen_sign_in``) on real-shaped events and memory stores:
the right code issues tokens, wrong codes run into the phone's limits, a locked phone fails the sign-in."""

from __future__ import annotations

import copy

import pytest

from functions.citizen_sign_in import handler as triggers
from shared.bootstrap import memory_stores, phone_login
from shared.citizens.login import SENDS, WRONG_CODES, account_id_of
from shared.citizens.service import SandboxVerifier
from shared.clock import ManualClock
from shared.auth import Role
from shared.errors import TooManyRequests
from shared.tokens import principal_from_claims

PHONE = "+8613800138000"
_BASE = {
    "version": "1",
    "region": "cn-north-1",
    "userPoolId": "cn-north-1_AbCdEfGhI",
    "userName": "5b2c1f0e-2f4a-4c1e-9d7b-0a1b2c3d4e5f",
    "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "4tq0example0client0id0abc"},
}
_ATTRIBUTES = {"sub": _BASE["userName"], "cognito:user_status": "CONFIRMED", "phone_number_verified": "true",
               "phone_number": PHONE}


def _define(session: list[dict]) -> dict:
    return {**copy.deepcopy(_BASE), "triggerSource": "DefineAuthChallenge_Authentication",
            "request": {"userAttributes": dict(_ATTRIBUTES), "session": copy.deepcopy(session), "userNotFound": False},
            "response": {"challengeName": None, "issueTokens": None, "failAuthentication": None}}


def _create(session: list[dict]) -> dict:
    return {**copy.deepcopy(_BASE), "triggerSource": "CreateAuthChallenge_Authentication",
            "request": {"userAttributes": dict(_ATTRIBUTES), "challengeName": "CUSTOM_CHALLENGE",
                        "session": copy.deepcopy(session), "userNotFound": False},
            "response": {"publicChallengeParameters": None, "privateChallengeParameters": None, "challengeMetadata": None}}


def _verify(private: dict, answer: str) -> dict:
    return {**copy.deepcopy(_BASE), "triggerSource": "VerifyAuthChallengeResponse_Authentication",
            "request": {"userAttributes": dict(_ATTRIBUTES), "privateChallengeParameters": private,
                        "challengeAnswer": answer, "userNotFound": False},
            "response": {"answerCorrect": None}}


@pytest.fixture
def world(monkeypatch):
    """The handler as Lambda runs it, its service built from memory stores, the texts kept by the sandbox."""
    clock, texts = ManualClock(), SandboxVerifier()
    stores = memory_stores()
    stores.login_texts = texts
    monkeypatch.setattr(triggers, "_login", phone_login(clock, stores))
    return clock, texts


class Cognito:
    """What Cognito does with the triggers during one InitiateAuth / RespondToAuthChallenge exchange."""

    def __init__(self) -> None:
        self.session: list[dict] = []

    def next_step(self) -> dict:
        return triggers.handler(_define(self.session), None)["response"]

    def challenge(self) -> dict:
        response = triggers.handler(_create(self.session), None)["response"]
        self.private, self.metadata = response["privateChallengeParameters"], response["challengeMetadata"]
        return response["publicChallengeParameters"]

    def answer(self, code: str) -> dict:
        right = triggers.handler(_verify(self.private, code), None)["response"]["answerCorrect"]
        self.session.append({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": right,
                             "challengeMetadata": self.metadata})
        return self.next_step()


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_the_right_code_issues_tokens(world):
    _, texts = world
    cognito = Cognito()
    assert cognito.next_step() == {"challengeName": "CUSTOM_CHALLENGE", "issueTokens": False, "failAuthentication": False}
    public = cognito.challenge()
    assert public["channel"] == "sms" and set(public) == {"channel", "expires_at"}  # no code, no challenge
    assert texts.messages[-1]["to"] == "13800138000"
    assert cognito.answer(texts.messages[-1]["code"]) == {"issueTokens": True, "failAuthentication": False,
                                                          "challengeName": None}


def test_a_wrong_answer_asks_again_without_a_new_text_and_the_session_ends_after_three(world):
    _, texts = world
    cognito = Cognito()
    cognito.next_step()
    cognito.challenge()
    code = texts.messages[-1]["code"]
    step = cognito.answer(_wrong(code))
    assert step["challengeName"] == "CUSTOM_CHALLENGE" and not step["issueTokens"] and not step["failAuthentication"]
    cognito.challenge()
    assert len(texts.messages) == 1  # the second round reuses the session's code
    cognito.answer(_wrong(code))
    cognito.challenge()
    assert cognito.answer(_wrong(code))["failAuthentication"] is True


def test_wrong_codes_across_sessions_lock_the_phone_even_for_the_right_code(world):
    clock, texts = world
    hourly, wrong = WRONG_CODES[0][0], 0
    while wrong < hourly:  # sessions of up to three wrong answers, each session its own text
        cognito = Cognito()
        cognito.next_step()
        for _ in range(min(triggers.MAX_ROUNDS, hourly - wrong)):
            cognito.challenge()
            cognito.answer(_wrong(texts.messages[-1]["code"]))
            wrong += 1
    assert len(texts.messages) == 2
    cognito = Cognito()
    cognito.next_step()
    cognito.challenge()
    with pytest.raises(TooManyRequests) as locked:  # Cognito fails the sign-in with this message
        triggers.handler(_verify(cognito.private, texts.messages[-1]["code"]), None)
    assert locked.value.code == "sign_in_locked" and 1 <= locked.value.retry_after <= 3600
    clock.advance(seconds=locked.value.retry_after)
    cognito = Cognito()
    cognito.next_step()
    cognito.challenge()
    assert cognito.answer(texts.messages[-1]["code"])["issueTokens"] is True  # the window passed


def test_code_requests_are_limited_per_phone(world):
    _, texts = world
    for _ in range(SENDS[0][0]):
        Cognito().challenge()
    with pytest.raises(TooManyRequests) as limited:
        Cognito().challenge()
    assert limited.value.code == "rate_limited" and len(texts.messages) == SENDS[0][0]


def test_a_used_code_does_not_sign_in_twice(world):
    _, texts = world
    cognito = Cognito()
    cognito.challenge()
    assert cognito.answer(texts.messages[-1]["code"])["issueTokens"] is True
    replay = triggers.handler(_verify(cognito.private, texts.messages[-1]["code"]), None)
    assert replay["response"]["answerCorrect"] is False


def test_no_other_challenge_and_unknown_users_fail():
    assert triggers.handler({**_define([]), "request": {**_define([])["request"], "userNotFound": True}},
                            None)["response"]["failAuthentication"] is True
    srp = [{"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None}]
    assert triggers.handler(_define(srp), None)["response"]["failAuthentication"] is True
    with pytest.raises(ValueError):
        triggers.handler({**_define([]), "triggerSource": "CustomMessage_SignUp"}, None)


def test_sign_up_is_confirmed_at_once_and_a_user_without_group_is_a_citizen():
    sign_up = {**copy.deepcopy(_BASE), "triggerSource": "PreSignUp_SignUp",
               "request": {"userAttributes": {"phone_number": PHONE}, "validationData": None},
               "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}}
    assert triggers.handler(sign_up, None)["response"]["autoConfirmUser"] is True

    def token_event(groups):
        return {**copy.deepcopy(_BASE), "triggerSource": "TokenGeneration_Authentication",
                "request": {"userAttributes": dict(_ATTRIBUTES),
                            "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": None}},
                "response": {"claimsOverrideDetails": None}}

    citizen = triggers.handler(token_event([]), None)["response"]["claimsOverrideDetails"]
    account = account_id_of(PHONE.removeprefix("+86"))  # what POST /v1/auth/sign-in gives this phone
    assert citizen == {"groupOverrideDetails": {"groupsToOverride": ["citizen"]}, "claimsToAddOrOverride": {"account": account}}
    claims = {"sub": _BASE["userName"], "cognito:groups": citizen["groupOverrideDetails"]["groupsToOverride"],
              **citizen["claimsToAddOrOverride"]}
    assert principal_from_claims(claims).role is Role.CITIZEN
    assert principal_from_claims(claims).subject == account  # one phone, one account, whichever sign-in
    again = triggers.handler(token_event(["citizen"]), None)["response"]["claimsOverrideDetails"]
    assert again == {"claimsToAddOrOverride": {"account": account}}  # a refresh keeps the same account
    assert triggers.handler(token_event(["district_admin"]), None)["response"]["claimsOverrideDetails"] is None
