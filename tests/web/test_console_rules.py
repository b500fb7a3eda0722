"""The console never shows a form the API would refuse: its ``MAY`` lists (functions/api/web/console.js) are
the roles the authorization matrix lets past (a 404 is a record hidden from that caller, which the console
never lists, not a refusal of the action)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.authz.matrix import MATRIX

CONSOLE = Path(__file__).resolve().parents[2] / "functions" / "api" / "web" / "console.js"
STAFF = {"city": "city_admin", "lx": "district_admin", "lxp": "district_platform", "op": "operator", "aud": "auditor"}
ACTIONS = {
    "register_device": ("POST", "/v1/admin/devices"),
    "decide_dispute": ("POST", "/v1/admin/disputes/{bill_id}/resolve"),
    "record_contact": ("POST", "/v1/admin/arrears/{case_id}/contacts"),
}


def _may() -> dict[str, set[str]]:
    block = re.search(r"const MAY = \{(.*?)\n\};", CONSOLE.read_text(encoding="utf-8"), re.S).group(1)
    return {name: set(json.loads(roles)) for name, roles in re.findall(r"(\w+): (\[[^\]]*\])", block)}


def test_each_console_form_is_shown_to_exactly_the_roles_the_api_lets_act():
    may = _may()
    assert set(may) == set(ACTIONS)
    for action, operation in ACTIONS.items():
        outcomes = MATRIX[operation].outcomes()
        allowed = {STAFF[r] for r in STAFF if outcomes[r] not in ("401", "403")}
        assert may[action] == allowed, (action, may[action], allowed)
