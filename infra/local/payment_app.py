"""The local stand-in for the payer's phone and the providers' servers (``make run`` only).

- ``GET  http://127.0.0.1:8001/pay/<ref>``          the sandbox payer page a pay code's ``next_action_url`` opens
  (HTML for a browser, JSON for ``Accept: application/json``); ``?return=<url>`` brings the payer back
- ``POST http://127.0.0.1:8001/pay/<ref>/approve``  the payer confirms in their app (``/decline`` refuses)
- ``POST http://127.0.0.1:8001/etc/<ref>/<result>`` the ETC issuer answers a deduction (success | failure)
- ``GET  http://127.0.0.1:8001/sms``                the local SMS inbox: the text messages the sandbox sent
  (plate-verification codes), newest first (``/sms.json`` for scripts)
The sandbox's and the issuer's queued callbacks are posted, signed, to the API's callback endpoints, as the
providers' own servers would, by ``deliver_callbacks`` (the run loop calls it every second).
"""

from __future__ import annotations

import html
import json
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from shared.errors import DomainError

CHANNEL_NAMES = {"wechat_pay": "微信支付 WeChat Pay", "alipay": "支付宝 Alipay", "unionpay": "云闪付 UnionPay"}
_STYLE = """body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}
main{max-width:28rem;margin:0 auto;padding:1rem}h1{font-size:1.3rem}.card{background:#fff;border-radius:.6rem;padding:1rem;margin:.8rem 0}
.amount{font-size:2rem;font-weight:700}button{font-size:1.1rem;padding:.8rem;width:100%;border:0;border-radius:.5rem;margin:.3rem 0}
.ok{background:#07804a;color:#fff}.no{background:#e3e6ea;color:#1b1f24}code{font-size:1.4rem;font-weight:700;letter-spacing:.1em}
small{color:#4a5563}"""


def _poster(api_base: str, provider: str):
    def post(headers: dict, body: bytes) -> None:
        req = urllib.request.Request(f"{api_base}/v1/payments/callbacks/{provider}", data=body, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    return post


def deliver_callbacks(providers: dict, api_base: str) -> int:
    sent = providers["sandbox"].deliver(_poster(api_base, "sandbox")) if "sandbox" in providers else 0
    if "etc" in providers:
        sent += providers["etc"].issuer.deliver(_poster(api_base, "etc"))
    return sent


def _page(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>").encode()


def _local_return(url: str | None) -> str | None:
    """Only back to a page on this machine: the sandbox must not become an open redirect."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") else None


def payer_page(payment, channel: str, ret: str | None) -> bytes:
    yuan = f"¥{payment.amount_fen // 100}.{payment.amount_fen % 100:02d}"
    ref = html.escape(payment.provider_ref)
    hidden = f'<input type="hidden" name="return" value="{html.escape(ret)}">' if ret else ""
    if payment.status.value != "pending":
        action = f'<p role="status">此付款状态：{html.escape(payment.status.value)} / status</p>'
    else:
        action = (f'<form method="post" action="/pay/{ref}/approve">{hidden}<button class="ok" type="submit" id="approve">'
                  f"确认付款 Pay {yuan}</button></form>"
                  f'<form method="post" action="/pay/{ref}/decline">{hidden}<button class="no" type="submit" id="decline">'
                  f"取消 Decline</button></form>")
    return _page("沙箱付款 Sandbox payer", (
        f'<h1>{html.escape(CHANNEL_NAMES.get(channel, channel))}（沙箱 sandbox）</h1>'
        f'<div class="card"><p>无锡通停通付 停车费 Parking fee</p><p class="amount">{yuan}</p>'
        f"<small>付款单号 {ref}</small></div>{action}"
        '<p><small>本页模拟付款人手机上的支付应用，仅用于本地环境。This page stands in for the payer\'s app on the local stack.</small></p>'))


def sms_page(messages: list[dict]) -> bytes:
    items = "".join(
        f'<li class="card"><p>{html.escape(m["text"])}</p><small>收件人 To: {html.escape(m["to"])}</small> '
        f'<span class="code" hidden>{html.escape(m["code"])}</span></li>' for m in reversed(messages))
    return _page("本地短信收件箱 Local SMS inbox", (
        "<h1>本地短信收件箱 Local SMS inbox</h1><p><small>The text messages the sandbox sent, newest first: in AWS they go "
        "to real phones. Refresh to see new ones.</small></p>"
        + (f'<ul style="list-style:none;padding:0">{items}</ul>' if items else "<p>还没有短信。No messages yet.</p>")))


def serve(providers: dict, port: int, verifier=None,
          after_write: Callable[[], None] | None = None) -> ThreadingHTTPServer:
    """``after_write``: called once a POST (an approval, a decline, an ETC answer: a callback queued) is answered."""
    sandbox, issuer = providers.get("sandbox"), providers["etc"].issuer if "etc" in providers else None

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, data: bytes, content_type: str, location: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, status: int, body: object) -> None:
            self._send(status, json.dumps(body, ensure_ascii=False, default=str).encode(), "application/json; charset=utf-8")

        def _wants_html(self) -> bool:
            return "text/html" in (self.headers.get("Accept") or "")

        def _form(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def _route(self, method: str) -> None:
            split = urlsplit(self.path)
            parts = [p for p in split.path.split("/") if p]
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            try:
                if parts == ["sms"] and method == "GET":
                    return self._send(200, sms_page(verifier.messages if verifier else []), "text/html; charset=utf-8")
                if parts == ["sms.json"] and method == "GET":
                    return self._answer(200, {"messages": list(reversed(verifier.messages if verifier else []))})
                if parts[:1] == ["pay"] and len(parts) == 2 and method == "GET":
                    payment = sandbox.payment(parts[1])
                    if self._wants_html():
                        channel = sandbox.channel_of(parts[1]) or ""
                        return self._send(200, payer_page(payment, channel, _local_return(query.get("return"))), "text/html; charset=utf-8")
                    return self._answer(200, payment.model_dump(mode="json"))
                if parts[:1] == ["pay"] and len(parts) == 3 and parts[2] in ("approve", "decline") and method == "POST":
                    form = self._form() if "form-urlencoded" in (self.headers.get("Content-Type") or "") else {}
                    done = sandbox.approve(parts[1]) if parts[2] == "approve" else sandbox.decline(parts[1])
                    back = _local_return(form.get("return"))
                    if back:
                        return self._send(303, b"", "text/plain", location=back)
                    return self._answer(200, done.model_dump(mode="json"))
                if parts[:1] == ["etc"] and len(parts) == 3 and parts[2] in ("success", "failure") and method == "POST":
                    issuer.resolve(parts[1], success=parts[2] == "success")
                    return self._answer(200, {"resolved": parts[1]})
            except DomainError as error:
                return self._answer(400, error.as_dict())
            return self._answer(404, {"code": "not_found", "message": "see infra/local/payment_app.py"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            try:
                self._route("POST")
            finally:
                if after_write:
                    after_write()

        def log_message(self, *args) -> None:
            return None

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
