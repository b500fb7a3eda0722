"""The operator commands that need no synthesis: secrets bootstrap, deploy plan, generated docs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import boto3
import pytest
from moto import mock_aws

from infra.cdk import deploy, diagram, docs, secrets, synth
from shared import resources


@pytest.fixture
def ssm(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "cn-north-1",
    }.items():
        monkeypatch.setenv(key, value)
    # the process's boto3 session kept (moto would start a fresh one per test, whose first client reads the
    # service models and endpoint rules from disk again: ~0.3-1 s of CPU a test, as in tests' LocalStack)
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield boto3.client("ssm")


def _key(ssm, stage):
    return ssm.get_parameter(Name=secrets.admin_key_name(stage), WithDecryption=True)["Parameter"]


def test_admin_key_is_created_once_as_a_secure_string(ssm):
    assert secrets.ensure_admin_key("staging", ssm=ssm).endswith("created")
    first = _key(ssm, "staging")
    assert first["Type"] == "SecureString" and len(first["Value"]) >= 64
    assert first["Name"] == resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER, "staging")
    assert secrets.ensure_admin_key("staging", ssm=ssm).endswith("unchanged")
    assert _key(ssm, "staging")["Value"] == first["Value"]


def test_rotation_replaces_the_admin_key(ssm, capsys):
    secrets.ensure_admin_key("prod", ssm=ssm)
    before = _key(ssm, "prod")["Value"]
    secrets.main(["--stage", "prod", "--rotate"])
    after = _key(ssm, "prod")["Value"]
    assert after != before
    assert after not in capsys.readouterr().out  # never printed


STRIPE_ENV = {"STRIPE_API_KEY": "sk_live_" + "k" * 24, "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32}


def _provider_names(stage):
    return [resources.parameter_name(p, stage) for p in resources.PAYMENT_PARAMETERS]


def test_missing_provider_secrets_are_reported_not_created(ssm, capsys, monkeypatch):
    for variable in STRIPE_ENV:
        monkeypatch.delenv(variable, raising=False)
    assert secrets.main(["--stage", "prod"]) == 0
    out = capsys.readouterr().out
    assert secrets.admin_key_name("prod") in out  # the admin key is created as before
    for name in _provider_names("prod"):
        assert f"MISSING {name}" in out
        with pytest.raises(ssm.exceptions.ParameterNotFound):
            ssm.get_parameter(Name=name)
    assert "--set-stripe" in out


def test_set_stripe_reads_the_environment_and_never_prints_the_values(ssm, capsys, monkeypatch):
    for variable, value in STRIPE_ENV.items():
        monkeypatch.setenv(variable, value)
    assert secrets.main(["--stage", "staging", "--set-stripe"]) == 0
    printed = capsys.readouterr()
    for name, value in zip(_provider_names("staging"), STRIPE_ENV.values(), strict=True):
        stored = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert stored["Type"] == "SecureString" and stored["Value"] == value
        assert value not in printed.out + printed.err
    assert "MISSING" not in printed.out and "present" in printed.out
    monkeypatch.setenv("STRIPE_API_KEY", "rk_live_" + "r" * 24)  # a restricted key replaces the first one
    secrets.main(["--stage", "staging", "--set-stripe"])
    assert ssm.get_parameter(Name=_provider_names("staging")[0], WithDecryption=True)["Parameter"]["Value"].startswith(
        "rk_"
    )


def test_set_stripe_refuses_missing_or_misplaced_values_and_writes_nothing(ssm, capsys, monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE_ENV["STRIPE_API_KEY"])
    assert secrets.main(["--stage", "dev", "--set-stripe"]) == 2
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_ENV["STRIPE_API_KEY"])  # the key pasted twice
    assert secrets.main(["--stage", "dev", "--set-stripe"]) == 2
    printed = capsys.readouterr()
    assert "STRIPE_WEBHOOK_SECRET" in printed.err and STRIPE_ENV["STRIPE_API_KEY"] not in printed.out + printed.err
    for name in _provider_names("dev"):
        with pytest.raises(ssm.exceptions.ParameterNotFound):
            ssm.get_parameter(Name=name)


def test_secret_values_are_never_accepted_as_arguments():
    with pytest.raises(SystemExit):
        secrets.main(["--stage", "dev", "--set-stripe", STRIPE_ENV["STRIPE_API_KEY"]])


def test_a_sandbox_stage_needs_no_provider_secret(ssm, monkeypatch):
    import dataclasses

    from infra.cdk.stages import stage_config

    sandbox = dataclasses.replace(stage_config("dev", {}), payments="sandbox")
    monkeypatch.setattr(secrets, "stage_config", lambda name, env=None: sandbox)
    (line,) = secrets.provider_report("dev", ssm=ssm)
    assert "sandbox" in line and "MISSING" not in line


def test_deploy_dry_run_prints_synth_deploy_and_secrets(capsys):
    assert deploy.main(["--stage", "prod", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("-m infra.cdk.synth --stage prod")
    assert lines[1].startswith("npx --yes aws-cdk@2 deploy tongting-prod --app cdk.out/prod")
    assert "--require-approval broadening" in lines[1]
    assert lines[2].endswith("-m infra.cdk.secrets --stage prod")


def test_deploy_passes_extra_arguments_to_cdk():
    command = deploy.deploy_command("dev", ["--require-approval", "never"])
    assert command.count("--require-approval") == 1 and command[-1] == "never"


def test_synth_refuses_an_unknown_stage():
    with pytest.raises(SystemExit):
        synth.main(["--stage", "qa"])


def test_ops_doc_and_diagram_are_current():
    assert docs.main(["--check"]) == 0, "run: python -m infra.cdk.docs"


def test_diagram_shows_every_resource():
    svg = diagram.render()
    ET.fromstring(svg)  # well-formed
    names = [t.logical for t in resources.TABLES] + [b.logical for b in resources.BUCKETS]
    names += [f.logical for f in resources.FUNCTIONS] + [m.logical for m in resources.STATE_MACHINES]
    names += [s.logical for s in resources.SCHEDULES] + [s.expression for s in resources.SCHEDULES]
    assert [n for n in names if f">{n}<" not in svg] == []
    for word in ("Devices", "Payment providers", "HTTP API", "Auditors"):
        assert word in svg
