"""The plain-Python ``Template`` of the template tests matches as CDK's assertions do, and fails as they do."""

from __future__ import annotations

import pytest

from tests.infra.template import Match, Template

BODY = {
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True, "Tags": [{"Key": "a"}, {"Key": "b"}]}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "Properties": {"TableName": "t", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                           "SSESpecification": {"SSEEnabled": True, "Kind": "KMS"}},
        },
        "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject"},
            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Principal": "*"},
        ]}}},
    }
}
T = Template.from_json(BODY)


def test_matches():
    T.resource_count_is("AWS::KMS::Key", 1)
    T.resource_count_is("AWS::SQS::Queue", 0)
    T.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    T.has_resource("AWS::DynamoDB::Table", {
        "Properties": Match.object_like({"TableName": "t", "SSESpecification": {"SSEEnabled": True},
                                         "StreamSpecification": Match.absent()}),
        "DeletionPolicy": "Retain"})
    T.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with(
        [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})
    T.has_resource_properties("AWS::KMS::Key", {"Tags": Match.array_with([{"Key": "a"}, {"Key": "b"}])})


@pytest.mark.parametrize("check", [
    lambda: T.resource_count_is("AWS::KMS::Key", 2),
    lambda: T.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": False}),
    lambda: T.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": 1}),  # a number is not a boolean
    lambda: T.has_resource_properties("AWS::KMS::Key", {"Description": "missing"}),
    lambda: T.has_resource_properties("AWS::KMS::Key", {"Tags": [{"Key": "a"}]}),  # arrays are exact
    lambda: T.has_resource_properties("AWS::KMS::Key", {"Tags": Match.array_with([{"Key": "b"}, {"Key": "a"}])}),
    lambda: T.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": Match.absent()}),
    lambda: T.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"}),
    lambda: T.has_resource_properties("AWS::SQS::Queue", {}),
    # inside array_with, a literal object is exact: the Deny statement has a Principal too
    lambda: T.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with(
        [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}])}}),
], ids=["count", "value", "type", "missing-key", "exact-array", "order", "absent", "deletion-policy", "no-resource", "exact-in-array"])
def test_mismatches_fail(check):
    with pytest.raises(AssertionError):
        check()
