"""``python -m infra.cdk.secrets --stage dev [--rotate] [--set-stripe]``: the stage's secrets.

CloudFormation cannot create SSM SecureString parameters and a template must never carry a secret, so
secrets live outside the stack:

- the admin-token signing key is generated here, with the operator's credentials, as a random value that
  is never printed (``--rotate`` replaces it);
- payment-provider secrets (the Stripe API key and webhook signing secret) come from the provider and are
  never generated: this command reports which are missing. ``--set-stripe`` writes them from the
  environment variables ``STRIPE_API_KEY`` and ``STRIPE_WEBHOOK_SECRET`` (never from the command line,
  where they would land in the shell history and the process list; never printed).

``deploy`` runs this after the stack, without options: it creates only the admin key if it is missing and
reports the rest.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping

import boto3

from infra.cdk.derive import provider_parameters
from infra.cdk.stages import STAGES, stage_config
from shared import resources

KEY_BYTES = 48
# Provider parameter -> the environment variable --set-stripe reads it from, and what its value starts with.
STRIPE_SOURCES = {
    resources.STRIPE_API_KEY_PARAMETER: ("STRIPE_API_KEY", ("sk_", "rk_")),
    resources.STRIPE_WEBHOOK_SECRET_PARAMETER: ("STRIPE_WEBHOOK_SECRET", ("whsec_",)),
}
DESCRIPTIONS = {
    resources.STRIPE_API_KEY_PARAMETER: "Stripe secret (or restricted) API key. Set by ops: python -m infra.cdk.secrets --set-stripe",
    resources.STRIPE_WEBHOOK_SECRET_PARAMETER: "Stripe webhook signing secret. Set by ops: python -m infra.cdk.secrets --set-stripe",
}


def admin_key_name(stage: str) -> str:
    return resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER, stage)


def _exists(ssm, name: str) -> bool:
    try:
        ssm.get_parameter(Name=name)  # without decryption: the value is never read here
        return True
    except ssm.exceptions.ParameterNotFound:
        return False


def ensure_admin_key(stage: str, *, rotate: bool = False, ssm=None) -> str:
    """Creates the signing key if absent (or replaces it when ``rotate``); returns what happened."""
    ssm = ssm or boto3.client("ssm")
    name = admin_key_name(stage)
    if not rotate and _exists(ssm, name):
        return f"{name}: exists, unchanged"
    ssm.put_parameter(
        Name=name,
        Value=secrets.token_urlsafe(KEY_BYTES),
        Type="SecureString",
        Overwrite=rotate,
        Description="Signs admin bearer tokens (HS256). Rotating invalidates every issued token.",
    )
    return f"{name}: {'rotated' if rotate else 'created'}"


def missing_provider_parameters(stage: str, *, ssm=None) -> list[str]:
    """The full names of the provider parameters some function reads that do not exist in the stage."""
    ssm = ssm or boto3.client("ssm")
    names = [resources.parameter_name(p, stage) for p in provider_parameters()]
    return [name for name in names if not _exists(ssm, name)]


def provider_report(stage: str, *, ssm=None) -> list[str]:
    """Lines telling the operator which provider secrets are missing and how to set them."""
    payments = stage_config(stage, {}).payments
    if payments != "stripe":
        return [f"payments: {payments} in stage {stage}, no provider secret is read"]
    missing = missing_provider_parameters(stage, ssm=ssm)
    if not missing:
        return [f"provider secrets: all {len(provider_parameters())} present"]
    variables = " and ".join(env for env, _ in STRIPE_SOURCES.values())
    return [
        *(f"MISSING {name}: payments fail until it is set" for name in missing),
        (
            f"  to set: export {variables} (e.g. read -rs STRIPE_API_KEY; export STRIPE_API_KEY), then run "
            f"python -m infra.cdk.secrets --stage {stage} --set-stripe"
        ),
    ]


def set_stripe(stage: str, *, environ: Mapping[str, str] | None = None, ssm=None) -> list[str]:
    """Writes the Stripe parameters from the environment (overwriting); refuses when a variable is missing or
    does not look like its kind of secret. Messages never contain a value."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    problems = []
    for logical, (variable, prefixes) in STRIPE_SOURCES.items():
        value = env.get(variable, "").strip()
        if not value:
            problems.append(f"{variable} is not set")
        elif not value.startswith(prefixes):
            problems.append(f"{variable} does not start with {' or '.join(prefixes)}")
        else:
            values[logical] = value
    if problems:
        raise ValueError("; ".join(problems) + ": nothing written")
    ssm = ssm or boto3.client("ssm")
    out = []
    for logical, value in values.items():
        name = resources.parameter_name(logical, stage)
        ssm.put_parameter(
            Name=name, Value=value, Type="SecureString", Overwrite=True, Description=DESCRIPTIONS[logical]
        )
        out.append(f"{name}: set")
    if stage == "prod" and values[resources.STRIPE_API_KEY_PARAMETER].startswith(("sk_test_", "rk_test_")):
        out.append("warning: prod now holds a Stripe *test-mode* API key")
    return out


def ensure_audit_log_key(stage: str, *, ssm=None) -> str:
    """Creates the archive log's checkpoint key if absent (issue 12). Never rotated here: a new key means
    a new log origin that auditors must be told of."""
    from shared.audit.note import Signer

    ssm = ssm or boto3.client("ssm")
    name = resources.parameter_name(resources.AUDIT_LOG_KEY_PARAMETER, stage)
    if _exists(ssm, name):
        return f"{name}: exists, unchanged"
    signer = Signer.generate(f"tongting.{stage}/archive-log")
    ssm.put_parameter(
        Name=name, Value=signer.signer_key(), Type="SecureString",
        Description="Signs the event archive's transparency-log checkpoints (C2SP signed note, Ed25519).",
    )  # fmt: skip
    return f"{name}: created; publish the verifier key {signer.verifier_key()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--rotate", action="store_true", help="replace the admin-token signing key")
    parser.add_argument(
        "--set-stripe",
        action="store_true",
        help="write the Stripe API key and webhook secret from $STRIPE_API_KEY and $STRIPE_WEBHOOK_SECRET",
    )
    args = parser.parse_args(argv)
    ssm = boto3.client("ssm")
    print(ensure_admin_key(args.stage, rotate=args.rotate, ssm=ssm))
    print(ensure_audit_log_key(args.stage, ssm=ssm))
    if args.set_stripe:
        try:
            for line in set_stripe(args.stage, ssm=ssm):
                print(line)
        except ValueError as refused:
            print(f"--set-stripe refused: {refused}", file=sys.stderr)
            return 2
    for line in provider_report(args.stage, ssm=ssm):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
