"""The rules that turn shared.resources into IAM grants, limits and settings (no synthesis)."""

from __future__ import annotations

import dataclasses

import pytest

from infra.cdk import bundle, derive
from infra.cdk.stages import STAGES, stage_config
from shared import resources


@pytest.mark.parametrize("fn", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_table_grants_are_exactly_the_declared_access(fn):
    grants = {g.name: set(g.actions) for g in derive.grants(fn) if g.target == "table"}
    assert set(grants) == set(fn.tables_read) | set(fn.tables_write)
    for table, actions in grants.items():
        assert ("dynamodb:GetItem" in actions) == (table in fn.tables_read)
        assert ("dynamodb:PutItem" in actions) == (table in fn.tables_write)


@pytest.mark.parametrize("fn", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_indexes_are_granted_for_tables_read_only(fn):
    indexes = {g.name for g in derive.grants(fn) if g.target == "index"}
    expected = {f"{t}/{i.name}" for t in fn.tables_read for i in resources.table(t).indexes}
    assert indexes == expected


@pytest.mark.parametrize("fn", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_no_derived_action_is_a_wildcard(fn):
    actions = [a for g in derive.grants(fn) for a in g.actions]
    assert actions and not [a for a in actions if "*" in a]


@pytest.mark.parametrize("fn", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_device_key_follows_access_to_the_devices_table(fn):
    key = [g for g in derive.grants(fn) if g.target == "device-secrets-key"]
    actions = set(key[0].actions) if key else set()
    assert ("kms:GenerateDataKey" in actions) == ("devices" in fn.tables_write)
    assert ("kms:Decrypt" in actions) == ("devices" in fn.tables_read)


def test_only_the_http_api_and_the_citizens_sign_in_read_the_admin_key():
    """The sign-in's Cognito triggers key the code's challenge with it, as ``/v1/auth`` does (issue 14)."""
    readers = [
        f.logical
        for f in resources.FUNCTIONS
        if any(g.target == "parameter" and g.name == resources.ADMIN_TOKEN_PARAMETER for g in derive.grants(f))
    ]
    assert readers == [derive.HTTP_API, "citizen-sign-in"]  # the API verifies bearer tokens itself


@pytest.mark.parametrize("fn", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_parameters_are_granted_only_to_functions_listing_them(fn):
    granted = [(g.name, g.actions) for g in derive.grants(fn) if g.target == "parameter"]
    admin = [resources.ADMIN_TOKEN_PARAMETER] if fn.logical == derive.HTTP_API else []
    assert sorted(granted) == sorted((p, derive.READ_PARAMETER) for p in {*admin, *fn.parameters_read})


def test_provider_parameters_are_the_ones_functions_read_but_the_generated_keys():
    read = {p for f in resources.FUNCTIONS for p in f.parameters_read}
    generated = {resources.ADMIN_TOKEN_PARAMETER, resources.AUDIT_LOG_KEY_PARAMETER}
    assert set(derive.provider_parameters()) == read - generated
    assert set(resources.PAYMENT_PARAMETERS) <= set(derive.provider_parameters())


@pytest.mark.parametrize("fn", resources.FUNCTIONS, ids=lambda f: f.logical)
def test_workflow_grants_are_exactly_the_declared_ones(fn):
    starts = [g.name for g in derive.grants(fn) if g.actions == derive.START_EXECUTION]
    completes = [g.name for g in derive.grants(fn) if g.target == "task-tokens"]
    assert starts == list(fn.state_machines_start)
    assert completes == list(fn.task_tokens_for)
    assert all(g.actions == derive.SEND_TASK for g in derive.grants(fn) if g.target == "task-tokens")
    # SendTask* appears nowhere else: only functions listing task_tokens_for complete waiting tasks.
    others = [g for g in derive.grants(fn) if g.target != "task-tokens"]
    assert not [a for g in others for a in g.actions if a.startswith("states:SendTask")]
    logical = {m.logical for m in resources.STATE_MACHINES}
    assert set(fn.state_machines_start) | set(fn.task_tokens_for) <= logical


def test_least_privilege_examples():
    """Spelled out for review: the parametrised tests cover every function the same way."""
    reconciliation = {
        g.name: g.actions for g in derive.grants(resources.function("reconciliation")) if g.target == "table"
    }
    assert "dynamodb:PutItem" not in reconciliation["citizens"]
    escalation = derive.grants(resources.function("arrears-escalation"))
    assert not [g for g in escalation if g.target in ("state-machine", "task-tokens") and g.name == "pay-later-billing"]
    holders = [f.logical for f in resources.FUNCTIONS if any(g.target == "task-tokens" for g in derive.grants(f))]
    assert holders == [f.logical for f in resources.FUNCTIONS if f.task_tokens_for]


def test_reserved_concurrency_and_dlq_rules():
    for fn in resources.FUNCTIONS:
        if derive.scheduled(fn):
            assert derive.reserved_concurrency(fn) == 1 and derive.invoked_async(fn)
        elif derive.workflow_task(fn):
            assert derive.reserved_concurrency(fn) == derive.WORKFLOW_TASK_CONCURRENCY
        else:
            assert derive.reserved_concurrency(fn) is None
    assert derive.reserved_concurrency(resources.function(derive.HTTP_API)) is None


def test_environment_names_the_stage_the_payment_provider_and_a_per_stage_metrics_namespace():
    env = derive.environment(resources.FUNCTIONS[0], stage_config("staging", {}))
    assert env["TONGTING_STAGE"] == "staging"
    assert env["TONGTING_PAYMENTS"] == "stripe"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Tongting/staging"
    sandbox = dataclasses.replace(stage_config("dev", {}), payments="sandbox")
    assert derive.environment(resources.FUNCTIONS[0], sandbox)["TONGTING_PAYMENTS"] == "sandbox"


def test_deployed_stages_take_real_payments_and_only_dev_may_use_the_sandbox():
    assert stage_config("staging", {}).payments == stage_config("prod", {}).payments == "stripe"
    for stage in ("staging", "prod"):
        with pytest.raises(ValueError, match="sandbox"):
            dataclasses.replace(stage_config(stage, {}), payments="sandbox")
    with pytest.raises(ValueError, match="payments"):
        dataclasses.replace(stage_config("dev", {}), payments="cash")


def test_stage_settings():
    assert [stage_config(s, {}).name for s in STAGES] == list(STAGES)
    prod = stage_config("prod", {})
    assert prod.deletion_protection and prod.retain_data and prod.archive_lock_days is None
    assert not stage_config("dev", {}).deletion_protection
    with pytest.raises(ValueError):
        stage_config("qa", {})


def test_optional_domain_and_alarm_email_come_from_the_environment():
    env = {
        "TONGTING_DOMAIN_NAME": "api.example.cn",
        "TONGTING_CERTIFICATE_ARN": "arn:aws:acm:x",
        "TONGTING_ALARM_EMAIL": "ops@example.cn",
    }
    config = stage_config("prod", env)
    assert config.domain.name == "api.example.cn" and config.domain.hosted_zone_id is None
    assert config.alarm_email == "ops@example.cn"
    with pytest.raises(ValueError, match="CERTIFICATE"):
        stage_config("prod", {"TONGTING_DOMAIN_NAME": "api.example.cn"})


def test_layer_requirements_are_the_project_pins_without_chalice():
    pins = bundle.requirements()
    assert not [p for p in pins if p.startswith("chalice")]
    assert any(p.startswith("pydantic") for p in pins) and any(p.startswith("pynamodb") for p in pins)


def test_role_descriptions_keep_only_what_iam_accepts():
    assert derive.iam_description("Registered (备案) lots") == "Registered () lots"
    assert len(derive.iam_description("x" * 2000)) == 1000
