"""Cognito's custom-auth triggers for the citizens' user pool: the phone sign-in of ``PhoneLogin``.

- Define: the next step of the session. A right answer issues tokens; otherwise one more custom challenge,
  up to ``MAX_ROUNDS`` answers per session (Cognito's own cap; the phone's limits are ``PhoneLogin``'s).
- Create: texts a code (``PhoneLogin.send_code``: the per-phone send limits) once per session; later rounds
  reuse the session's challenge, kept in the challenge metadata (an HMAC: it does not reveal the code).
- Verify: ``PhoneLogin.check_code`` (wrong-code limits, expiry, single use): the answer is right or not.

- Pre sign-up: a citizen registers with the phone alone, confirmed at once (no password, no confirmation
  text: every sign-in proves the phone by its code, so an unproven registration gets nothing).
- Pre token generation: a user in no group is a citizen (``cognito:groups`` = ``["citizen"]``); staff are
  put in their role's group by an administrator, with ``custom:district`` / ``custom:operator``.

A refusal of the limits (429 in the platform's own sign-in) is raised: Cognito fails the sign-in with the
message (``UserLambdaValidationException``), which carries ``retry_after``.
"""

from __future__ import annotations

from shared.bootstrap import phone_login
from shared.citizens.login import account_of_phone
from shared.clock import SystemClock
from shared.errors import InvalidInput, Unauthenticated

CHALLENGE = "CUSTOM_CHALLENGE"
MAX_ROUNDS = 3
CITIZEN_GROUP = "citizen"  # shared.auth.Role.CITIZEN
_login = None


def _service():
    global _login
    if _login is None:
        _login = phone_login(SystemClock())
    return _login


def handler(event: dict, context) -> dict:
    trigger = event.get("triggerSource")
    if trigger == "DefineAuthChallenge_Authentication":
        return define(event)
    if trigger == "CreateAuthChallenge_Authentication":
        return create(event, _service())
    if trigger == "VerifyAuthChallengeResponse_Authentication":
        return verify(event, _service())
    if trigger == "PreSignUp_SignUp":
        event["response"].update(autoConfirmUser=True, autoVerifyPhone=True, autoVerifyEmail=False)
        return event
    if trigger in TOKEN_TRIGGERS:
        return default_group(event)
    raise ValueError(f"not a sign-in trigger: {trigger!r}")


TOKEN_TRIGGERS = ("TokenGeneration_Authentication", "TokenGeneration_RefreshTokens", "TokenGeneration_NewPasswordChallenge",
                  "TokenGeneration_AuthenticateDevice", "TokenGeneration_HostedAuth")


def default_group(event: dict) -> dict:
    """A user in no group is a citizen; a citizen's ID token carries ``account``, the account id the platform's
    own sign-in gives the same phone (``account_id_of``), so one phone is one account whichever way it signs in."""
    groups = ((event["request"].get("groupConfiguration") or {}).get("groupsToOverride")) or []
    if not groups or groups == [CITIZEN_GROUP]:
        details = {"claimsToAddOrOverride": {"account": account_of_phone(_phone_of(event["request"]))}}
        if not groups:
            details["groupOverrideDetails"] = {"groupsToOverride": [CITIZEN_GROUP]}
        event["response"]["claimsOverrideDetails"] = details
    return event


def define(event: dict) -> dict:
    request, response = event["request"], event["response"]
    session = request.get("session") or []
    response.update(issueTokens=False, failAuthentication=False)
    if request.get("userNotFound") or any(c.get("challengeName") != CHALLENGE for c in session):
        response["failAuthentication"] = True  # no password, SRP or other challenge in this pool
    elif session and session[-1].get("challengeResult") is True:
        response["issueTokens"] = True
    elif len(session) >= MAX_ROUNDS:
        response["failAuthentication"] = True
    else:
        response["challengeName"] = CHALLENGE
    return event


def create(event: dict, login) -> dict:
    request, response = event["request"], event["response"]
    earlier = [c.get("challengeMetadata") or "" for c in request.get("session") or []]
    challenge = next((m.removeprefix("LOGIN-") for m in reversed(earlier) if m.startswith("LOGIN-")), None)
    if challenge is None:
        challenge = login.send_code(_phone_of(request))["challenge"]  # 429 raised: the sign-in fails
    response["publicChallengeParameters"] = {"channel": "sms", "expires_at": challenge.split(".", 1)[0]}
    response["privateChallengeParameters"] = {"challenge": challenge}
    response["challengeMetadata"] = f"LOGIN-{challenge}"
    return event


def verify(event: dict, login) -> dict:
    request = event["request"]
    challenge = (request.get("privateChallengeParameters") or {}).get("challenge")
    try:
        login.check_code(_phone_of(request), request.get("challengeAnswer"), challenge)
        event["response"]["answerCorrect"] = True
    except (Unauthenticated, InvalidInput):  # wrong, expired, used or malformed: a wrong answer
        event["response"]["answerCorrect"] = False
    return event  # TooManyRequests propagates: the phone is locked, the sign-in fails


def _phone_of(request: dict) -> str:
    return (request.get("userAttributes") or {}).get("phone_number", "")
