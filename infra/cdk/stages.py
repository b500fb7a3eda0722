"""Per-stage settings: what differs between dev, staging and prod, and nothing else.

Names, keys, schedules and functions are the same in every stage (``shared.resources``). Settings an
operator supplies per account (custom domain, alarm e-mail) come from the environment so that no
account-specific value is committed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from shared import resources

STAGES = ("dev", "staging", "prod")
# TONGTING_PAYMENTS in the functions (shared/adapters/payments/providers.py). The sandbox PSP answers on the
# local stack only; a deployed stage may use it only where no real money moves (dev).
PAYMENT_MODES = ("stripe", "sandbox")
SANDBOX_STAGES = ("dev",)


def stack_name(stage: str) -> str:
    return f"{resources.APP}-{stage}"


@dataclass(frozen=True)
class Domain:
    name: str
    certificate_arn: str
    hosted_zone_id: str | None = None  # given: an alias record is created in that zone


@dataclass(frozen=True)
class StageConfig:
    name: str
    retain_data: bool  # tables and keys survive `cdk destroy`
    deletion_protection: bool  # DynamoDB refuses DeleteTable
    log_retention_days: int
    api_rate_limit: float  # steady requests/s for the whole API stage
    api_burst_limit: int
    unrouted_rate_limit: float  # requests/s, anything that is no route of the app (the HTTP API's $default route)
    reserved_concurrency: bool  # off where the account's concurrency quota is small (new dev accounts)
    archive_lock_days: int | None = None  # None: the value in shared.resources
    function_memory_mb: int = 512  # the default; a function may declare its own (shared/resources.py Function.memory_mb)
    payments: str = "stripe"  # one of PAYMENT_MODES; "sandbox" only in SANDBOX_STAGES
    signature_failures_alarm: int = 20  # per 5 minutes
    offline_lots_alarm: int = 1
    alarm_email: str | None = None
    domain: Domain | None = None

    def __post_init__(self) -> None:
        if self.payments not in PAYMENT_MODES:
            raise ValueError(f"payments must be one of {', '.join(PAYMENT_MODES)}, not {self.payments!r}")
        if self.payments == "sandbox" and self.name not in SANDBOX_STAGES:
            raise ValueError(f"stage {self.name} cannot use the sandbox payment provider")


_DEFAULTS = {
    # A dev archive locked for ten years would outlive the account it tests in.
    "dev": StageConfig("dev", False, False, 14, 50, 100, 5, False, archive_lock_days=1),
    "staging": StageConfig("staging", True, False, 30, 200, 400, 10, True, archive_lock_days=30),
    "prod": StageConfig("prod", True, True, 365, 1_000, 2_000, 20, True),
}


def stage_config(name: str, environ: Mapping[str, str] | None = None) -> StageConfig:
    """The settings of a stage; ``TONGTING_ALARM_EMAIL`` and ``TONGTING_DOMAIN_NAME`` /
    ``TONGTING_CERTIFICATE_ARN`` / ``TONGTING_HOSTED_ZONE_ID`` add the optional parts."""
    if name not in _DEFAULTS:
        raise ValueError(f"unknown stage {name!r}: one of {', '.join(STAGES)}")
    env = os.environ if environ is None else environ
    config = _DEFAULTS[name]
    if env.get("TONGTING_ALARM_EMAIL"):
        config = replace(config, alarm_email=env["TONGTING_ALARM_EMAIL"])
    if env.get("TONGTING_DOMAIN_NAME"):
        if not env.get("TONGTING_CERTIFICATE_ARN"):
            raise ValueError("TONGTING_DOMAIN_NAME needs TONGTING_CERTIFICATE_ARN (an ACM certificate in the region)")
        domain = Domain(
            env["TONGTING_DOMAIN_NAME"], env["TONGTING_CERTIFICATE_ARN"], env.get("TONGTING_HOSTED_ZONE_ID")
        )
        config = replace(config, domain=domain)
    return config
