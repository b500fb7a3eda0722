"""Text messages through Amazon SNS: the sign-in code published straight to the phone (no topic).

Chosen by configuration: ``TONGTING_SMS=sns`` (set by the CDK app on the functions that text, see
``infra/cdk/derive.environment``); without it the sandbox keeps the text for the local SMS inbox.
"""

from __future__ import annotations

import os

from shared.adapters import aws

SMS_ENV = "TONGTING_SMS"
SENDER_ID = "TONGTING"
LOGIN_TEXT = "【无锡通停通付】登录验证码 {code}，5 分钟内有效。请勿告诉他人。"


def configured() -> str:
    return os.environ.get(SMS_ENV, "sandbox")


class SnsTextMessages:
    """``shared.citizens.login.TextMessages`` on SNS: transactional SMS to the E.164 number (+86...)."""

    def send_login_code(self, phone: str, code: str) -> None:
        aws.client("sns").publish(
            PhoneNumber=_e164(phone),
            Message=LOGIN_TEXT.format(code=code),
            MessageAttributes={
                # Transactional: delivered ahead of marketing traffic, and allowed at any hour.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": SENDER_ID},
            },
        )


def _e164(phone: str) -> str:
    return phone if phone.startswith("+") else f"+86{phone}"
