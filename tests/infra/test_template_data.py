"""Synthesised stacks, every stage: resource counts, tables, the archive bucket, the KMS key, no secrets."""

from __future__ import annotations

import json
import re

import pytest

from infra.cdk.stages import stage_config
from shared import resources
from tests.infra import cfn
from tests.infra.cfn import PLAIN, each_stage, match

pytestmark = pytest.mark.cdk


@each_stage
def test_resource_counts(templates, stage):
    t = templates[stage]
    expected = {
        "AWS::DynamoDB::Table": len(resources.TABLES),
        "AWS::S3::Bucket": len(resources.BUCKETS),
        "AWS::StepFunctions::StateMachine": len(resources.STATE_MACHINES),
        "AWS::Events::Rule": len(resources.SCHEDULES),
        # Plain functions only: no CDK custom-resource function sneaks in.
        "AWS::Lambda::Function": len(PLAIN),
        "AWS::Serverless::Function": 1,  # the API handler (it verifies bearer tokens itself)
        "AWS::Serverless::Api": 0,  # the HTTP API is API Gateway v2 (test_template_api.py)
        "AWS::ApiGatewayV2::Api": 1,
        "AWS::Lambda::LayerVersion": 2,
        "AWS::Lambda::EventSourceMapping": sum(1 for f in PLAIN if f.stream_source),
        "AWS::SQS::Queue": cfn.dlq_count(),
        "AWS::KMS::Key": 1,
        "AWS::WAFv2::WebACL": 0,  # an HTTP API cannot have one: bench/README.md, "The API Gateway flavour"
        "AWS::SNS::Topic": 1,
        "AWS::CloudWatch::Dashboard": 1,
        "AWS::SSM::Parameter": 0,
        "AWS::SecretsManager::Secret": 0,
    }
    for kind, count in expected.items():
        t.resource_count_is(kind, count)


@each_stage
@pytest.mark.parametrize("spec", resources.TABLES, ids=lambda t: t.logical)
def test_table(templates, raw_templates, stage, spec):
    Match = match()
    config = stage_config(stage, {})
    keys = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
    if spec.range_key:
        keys.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
    expected = {
        "TableName": resources.resource_name(spec.logical, stage),
        "KeySchema": keys,
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": config.deletion_protection,
        "TimeToLiveSpecification": (
            {"AttributeName": spec.ttl_attribute, "Enabled": True} if spec.ttl_attribute else Match.absent()
        ),
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"} if spec.stream else Match.absent(),
    }
    templates[stage].has_resource(
        "AWS::DynamoDB::Table",
        {"Properties": Match.object_like(expected), "DeletionPolicy": "Retain" if config.retain_data else "Delete"},
    )
    table_id = cfn.table_ids_by_name(raw_templates[stage])[expected["TableName"]]
    table = cfn.props(raw_templates[stage], table_id)
    indexes = table.get("GlobalSecondaryIndexes", [])
    assert [
        (
            i["IndexName"],
            [(k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]],
            i["Projection"]["ProjectionType"],
        )
        for i in indexes
    ] == [
        (i.name, [(i.hash_key, "HASH")] + ([(i.range_key, "RANGE")] if i.range_key else []), i.projection)
        for i in spec.indexes
    ]
    types = {spec.hash_key: spec.hash_type}
    if spec.range_key:
        types[spec.range_key] = spec.range_type
    for i in spec.indexes:
        types[i.hash_key] = i.hash_type
        if i.range_key:
            types[i.range_key] = i.range_type
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == types


@each_stage
@pytest.mark.parametrize("spec", resources.BUCKETS, ids=lambda b: b.logical)
def test_archive_bucket_is_locked_versioned_encrypted_and_private(templates, stage, spec):
    Match = match()
    days = stage_config(stage, {}).archive_lock_days or spec.object_lock_days
    templates[stage].has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "BucketName": resources.resource_name(spec.logical, stage),
                    "ObjectLockEnabled": True,
                    "ObjectLockConfiguration": {
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}},
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )
    templates[stage].has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_prod_archive_keeps_the_retention_of_the_single_definition(raw_templates):
    buckets = cfn.of_type(raw_templates["prod"], "AWS::S3::Bucket").values()
    days = [b["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"] for b in buckets]
    assert days == [b.object_lock_days for b in resources.BUCKETS]


@each_stage
def test_device_secrets_key(templates, stage):
    templates[stage].has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    templates[stage].has_resource_properties("AWS::KMS::Alias", {"AliasName": resources.DEVICE_SECRETS_KEY_ALIAS})


SECRET_PATTERNS = [
    r"sk_(live|test)_",
    r"rk_(live|test)_",
    r"whsec_",
    r"-----BEGIN",
    r"AKIA[0-9A-Z]{16}",
    r"SecretString",
]


@each_stage
def test_no_secret_values_in_the_template(raw_templates, stage):
    text = json.dumps(raw_templates[stage])
    assert [p for p in SECRET_PATTERNS if re.search(p, text)] == []
    for fn_id in cfn.functions_by_name(raw_templates[stage]).values():
        names = cfn.props(raw_templates[stage], fn_id)["Environment"]["Variables"]
        assert not [n for n in names if re.search("SECRET|PASSWORD|TOKEN|PRIVATE", n)]
