"""The SNS text-message adapter, on moto's SNS (which records every SMS published to a phone number),
and its choice by configuration: SNS only where ``TONGTING_SMS=sns``, the sandbox inbox otherwise."""

from __future__ import annotations

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns import sns_backends

from shared import bootstrap
from shared.adapters import sms
from shared.clock import ManualClock

REGION = "us-east-1"


@pytest.fixture
def sns(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield sns_backends[DEFAULT_ACCOUNT_ID][REGION]


def test_the_login_code_is_published_to_the_phone_as_a_transactional_sms(sns):
    sms.SnsTextMessages().send_login_code("13800138000", "482913")
    assert len(sns.sms_messages) == 1
    (number, text), = sns.sms_messages.values()
    assert number == "+8613800138000" and "482913" in text and "登录验证码" in text


def test_phone_login_texts_through_sns_when_configured(sns, monkeypatch):
    monkeypatch.setenv(sms.SMS_ENV, "sns")
    stores = bootstrap.memory_stores()
    stores.login_texts = bootstrap._configured_texts()
    login = bootstrap.phone_login(ManualClock(), stores)
    login.send_code("+86 138-0013-8000")
    (number, text), = sns.sms_messages.values()
    assert number == "+8613800138000" and text.split("登录验证码 ")[1][:6].isdigit()


def test_without_configuration_the_sandbox_keeps_the_text(monkeypatch):
    monkeypatch.delenv(sms.SMS_ENV, raising=False)
    assert bootstrap._configured_texts() is None
    services = bootstrap.build(ManualClock(), bootstrap.memory_stores())
    services.phone_login.send_code("13800138000")
    assert services.plate_verifier.messages[-1]["to"] == "13800138000"
