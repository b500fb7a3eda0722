"""Mint an admin bearer token with the stage's signing key from SSM, and print it.

    TONGTING_STAGE=prod python -m tools.mint_token --role city_admin --sub zhang.wei
    python -m tools.mint_token --role district_admin --district 320213 --sub li.na --hours 8

Uses the caller's AWS credentials (the key never leaves SSM except into this process).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone

from shared import tokens
from shared.adapters.parameters import admin_token_key
from shared.auth import Role
from shared.errors import InvalidInput


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--sub", required=True, help="who the token is for")
    p.add_argument("--district", help="district code, for district roles")
    p.add_argument("--operator", help="operator id, for the operator role")
    p.add_argument("--hours", type=float, default=12)
    args = p.parse_args(argv)
    try:  # a district only on district roles, an operator only on operators: refused before the key is read
        tokens.claims_for(args.sub, Role(args.role), args.district, args.operator)
    except InvalidInput as error:
        p.error(error.message)
    print(tokens.mint(admin_token_key(), subject=args.sub, role=Role(args.role), now=datetime.now(timezone.utc),
                      district_code=args.district, operator_id=args.operator, ttl=timedelta(hours=args.hours)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
