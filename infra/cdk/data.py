"""Where data lives: the DynamoDB tables, the archive bucket and the device-secrets KMS key.

Keys, indexes, TTL, streams and Object Lock days come from ``shared.resources``; the stage decides
whether data survives a stack deletion and whether tables refuse to be deleted.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk.derive import pascal
from infra.cdk.stages import StageConfig
from shared import resources

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attribute(name: str | None, kind: str) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=name, type=_TYPES[kind]) if name else None


class DataStores(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, construct_id)
        retain = RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in resources.TABLES:
            table = dynamodb.Table(
                self,
                pascal(spec.logical),
                table_name=resources.resource_name(spec.logical, stage.name),
                partition_key=_attribute(spec.hash_key, spec.hash_type),
                sort_key=_attribute(spec.range_key, spec.range_type),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                deletion_protection=stage.deletion_protection,
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl_attribute,
                stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
                removal_policy=retain,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(index.hash_key, index.hash_type),
                    sort_key=_attribute(index.range_key, index.range_type),
                    projection_type=getattr(dynamodb.ProjectionType, index.projection),
                )
            self.tables[spec.logical] = table

        self.buckets: dict[str, s3.Bucket] = {}
        for spec in resources.BUCKETS:
            lock_days = stage.archive_lock_days or spec.object_lock_days
            self.buckets[spec.logical] = s3.Bucket(
                self,
                pascal(spec.logical),
                bucket_name=resources.resource_name(spec.logical, stage.name),
                versioned=True,
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                enforce_ssl=True,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                object_lock_enabled=spec.object_lock_days > 0,
                object_lock_default_retention=(
                    s3.ObjectLockRetention.compliance(Duration.days(lock_days)) if spec.object_lock_days else None
                ),
                lifecycle_rules=[
                    s3.LifecycleRule(
                        id="archive-tiering",
                        abort_incomplete_multipart_upload_after=Duration.days(7),
                        # Auditors replay old months rarely: infrequent-access pricing after 90 days.
                        transitions=[
                            s3.Transition(
                                storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(90)
                            )
                        ],
                    )
                ],
                # Locked objects outlive any stack: the bucket is never deleted with it.
                removal_policy=RemovalPolicy.RETAIN,
            )

        self.device_secrets_key = kms.Key(
            self,
            "DeviceSecretsKey",
            alias=resources.DEVICE_SECRETS_KEY_ALIAS,
            description="Seals device signing secrets stored in the devices table",
            enable_key_rotation=True,
            pending_window=Duration.days(30),
            removal_policy=retain,
        )
