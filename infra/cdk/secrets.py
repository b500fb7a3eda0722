"""``python -m infra.cdk.secrets --stage dev [--rotate]``: create or rotate the stage's secrets.

CloudFormation cannot create SSM SecureString parameters and a template must never carry a secret, so
the admin-token signing key is written here, with the operator's credentials, as a random value that is
never printed. ``deploy`` runs this after the stack (creating only what is missing).
"""

from __future__ import annotations

import argparse
import secrets

import boto3

from infra.cdk.stages import STAGES
from shared import resources

KEY_BYTES = 48


def admin_key_name(stage: str) -> str:
    return resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER, stage)


def ensure_admin_key(stage: str, *, rotate: bool = False, ssm=None) -> str:
    """Creates the signing key if absent (or replaces it when ``rotate``); returns what happened."""
    ssm = ssm or boto3.client("ssm")
    name = admin_key_name(stage)
    if not rotate:
        try:
            ssm.get_parameter(Name=name)
            return f"{name}: exists, unchanged"
        except ssm.exceptions.ParameterNotFound:
            pass
    ssm.put_parameter(
        Name=name,
        Value=secrets.token_urlsafe(KEY_BYTES),
        Type="SecureString",
        Overwrite=rotate,
        Description="Signs admin bearer tokens (HS256). Rotating invalidates every issued token.",
    )
    return f"{name}: {'rotated' if rotate else 'created'}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--rotate", action="store_true", help="replace the admin-token signing key")
    args = parser.parse_args(argv)
    print(ensure_admin_key(args.stage, rotate=args.rotate))


if __name__ == "__main__":
    main()
