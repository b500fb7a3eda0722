"""The operator CLIs: minting an admin token from the stage's SSM key."""

from datetime import datetime, timezone

from shared import tokens
from shared.auth import Role
from tools import mint_token


def test_mint_token_signs_with_the_stage_key(stack, capsys):
    assert mint_token.main(["--role", "district_admin", "--district", "320213", "--sub", "li.na"]) == 0
    token = capsys.readouterr().out.strip()
    principal = tokens.verify(stack.services.token_key(), token, now=datetime.now(timezone.utc))
    assert (principal.role, principal.district_code, principal.subject) == (Role.DISTRICT_ADMIN, "320213", "li.na")
