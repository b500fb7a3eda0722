"""The HTTP API (Chalice): one app, its routes grouped by audience in ``functions/api/routes``.

Each route parses its input, calls one service and shapes the output; ``functions/api/http.py`` holds
the app object, the error mapping and the bearer-token check.
"""

from __future__ import annotations

from functions.api.http import admin_token, app
from functions.api.routes import admin, arrears, citizens, coupons, devices, login, money_admin, payments, public, web  # noqa: F401
from functions.api.routes import charging, hospital, hotline, sharing  # noqa: F401  (issue 13: service scenarios)
from functions.api.routes import governance, supervision  # noqa: F401  (issue 11)
from functions.api.routes import findings, me_payments  # noqa: F401  (issue 14: several bills in one payment, findings)

__all__ = ["admin_token", "app"]
