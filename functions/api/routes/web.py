"""The citizens' web app, served by the API itself: plain HTML, CSS and JS files from ``functions/api/web``
(no build step). The pay code's URL (/v1/pay/{lot_id}) answers a browser with ``pay.html``."""

from __future__ import annotations

from pathlib import Path

from chalice import Response

from functions.api.http import app, route
from shared.errors import NotFound

WEB = Path(__file__).resolve().parents[1] / "web"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def wants_page() -> bool:
    """A browser opening a printed QR code asks for HTML; scripts and the app's own fetches ask for JSON."""
    accept = (app.current_request.headers or {}).get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def static(name: str) -> Response:
    path = WEB / name
    if "/" in name or path.suffix not in TYPES or not path.is_file():
        raise NotFound(f"no page {name}", code="no_page")
    return Response(body=path.read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": TYPES[path.suffix], "Cache-Control": "no-cache"})


@route("/web/{name}", methods=["GET"])
def web_file(name):
    return static(name)


@route("/", methods=["GET"])
def home():
    return Response(body="", status_code=302, headers={"Location": "/web/find.html"})
