"""Which payment providers this deployment talks to, chosen by ``TONGTING_PAYMENTS``.

- ``sandbox`` (the default, and what the local stack and tests use): the sandbox PSP for WeChat Pay, Alipay
  and UnionPay, and the simulated ETC issuer. One instance per process, so a test (or the local "payment
  app") approves the very intents the API created.
- ``stripe``: Stripe for WeChat Pay, Alipay and UnionPay cards, keys from SSM SecureString parameters.
  ETC is offered only where an issuer client is configured (none yet: see the README's open items).
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters

from shared import resources
from shared.adapters.payments.etc import EtcProvider, SimulatedEtcIssuer
from shared.adapters.payments.sandbox import SandboxProvider
from shared.clock import Clock
from shared.payments.provider import Channel, PaymentProvider
from shared.payments.service import Routing

PAYER_CHANNELS = (Channel.WECHAT_PAY, Channel.ALIPAY, Channel.UNIONPAY)
LOCAL_ETC_SECRET = "etc_issuer_local"
LOCAL_SANDBOX_SECRET = "whsec_sandbox_local"


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
    base = os.environ.get("TONGTING_SANDBOX_URL", "http://127.0.0.1:8000/sandbox")
    sandbox = SandboxProvider(clock, webhook_secret=LOCAL_SANDBOX_SECRET, base_url=base)
    issuer = SimulatedEtcIssuer(clock, secret=LOCAL_ETC_SECRET)
    etc = EtcProvider(issuer, secret=LOCAL_ETC_SECRET, clock=clock)
    routing = Routing({**{c: "sandbox" for c in PAYER_CHANNELS}, Channel.ETC: "etc"})
    return {"sandbox": sandbox, "etc": etc}, routing
