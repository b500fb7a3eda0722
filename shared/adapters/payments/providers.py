"""Which payment providers this deployment talks to, chosen by ``TONGTING_PAYMENTS``.

- ``sandbox`` (the default, and what the local stack and tests use): the sandbox PSP for WeChat Pay, Alipay
  and UnionPay, and the simulated ETC issuer. One instance per process, so a test (or the local "payment
  app") approves the very intents the API created.
- ``stripe``: Stripe for WeChat Pay, Alipay and UnionPay cards, keys from SSM SecureString parameters.
  ETC is offered only where an issuer client is configured (none yet: see the README's open items).
"""

from __future__ import annotations

import os
import secrets

from aws_lambda_powertools.utilities import parameters

from shared import resources
from shared.adapters.payments.etc import EtcProvider, SimulatedEtcIssuer
from shared.adapters.payments.sandbox import SandboxProvider
from shared.clock import Clock
from shared.payments.provider import Channel, PaymentProvider
from shared.payments.service import Routing

PAYER_CHANNELS = (Channel.WECHAT_PAY, Channel.ALIPAY, Channel.UNIONPAY)
# The sandbox moves no real money, so it may answer only where none moves: the local stack, the tests and
# the dev stage. Anywhere else building it is refused, whatever the environment says (infra/cdk/stages.py
# refuses to synthesise such a stage too).
SANDBOX_STAGES = ("local", "test", "dev")


def stack_secret(env: str) -> str:
    """A simulated provider's webhook secret: generated per stack (per process), never a constant in the
    code; ``env`` may set it where two processes must agree (the payment app of ``make run`` shares the
    process, so it needs none)."""
    return os.environ.get(env) or "whsec_" + secrets.token_urlsafe(32)


def _secret(logical: str) -> str:
    return parameters.get_parameter(resources.parameter_name(logical), decrypt=True, max_age=300)


def configured_providers(clock: Clock) -> tuple[dict[str, PaymentProvider], Routing]:
    mode = os.environ.get("TONGTING_PAYMENTS", "sandbox")
    if mode == "stripe":
        from shared.adapters.payments.stripe_provider import StripeProvider

        stripe = StripeProvider(
            _secret(resources.STRIPE_API_KEY_PARAMETER),
            _secret(resources.STRIPE_WEBHOOK_SECRET_PARAMETER),
            clock=clock,
            return_url=os.environ.get("TONGTING_PAY_RETURN_URL", "https://pay.tongting.example/done"),
        )
        return {"stripe": stripe}, Routing({c: "stripe" for c in PAYER_CHANNELS})
    if mode != "sandbox":
        raise ValueError(f"TONGTING_PAYMENTS must be sandbox or stripe, not {mode!r}")
    stage = resources.stage()
    if stage not in SANDBOX_STAGES:
        raise RuntimeError(f"the sandbox payment provider is refused on stage {stage!r} (only {', '.join(SANDBOX_STAGES)})")
    base = os.environ.get("TONGTING_SANDBOX_URL", "http://127.0.0.1:8000/sandbox")
    sandbox = SandboxProvider(clock, webhook_secret=stack_secret("TONGTING_SANDBOX_WEBHOOK_SECRET"), base_url=base)
    etc_secret = stack_secret("TONGTING_ETC_WEBHOOK_SECRET")
    issuer = SimulatedEtcIssuer(clock, secret=etc_secret)
    etc = EtcProvider(issuer, secret=etc_secret, clock=clock)
    for simulated in (sandbox, issuer):
        simulated.configure(**fault_knobs(os.environ.get("TONGTING_SANDBOX_FAULTS", "")))
    routing = Routing({**{c: "sandbox" for c in PAYER_CHANNELS}, Channel.ETC: "etc"})
    return {"sandbox": sandbox, "etc": etc}, routing


def fault_knobs(spec: str) -> dict:
    """``TONGTING_SANDBOX_FAULTS="duplicates=2,reverse_order=1,delay_s=30"``: the simulated providers'
    delivery faults for ``make run``, so the chaos of tests/chaos can be run against the running stack."""
    knobs: dict = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        casts = {"duplicates": int, "reverse_order": lambda v: v.lower() in ("1", "true", "yes"), "delay_s": float}
        if name not in casts:
            raise ValueError(f"TONGTING_SANDBOX_FAULTS: unknown knob {name!r} (duplicates, reverse_order, delay_s)")
        knobs[name] = casts[name](value)
    return knobs
