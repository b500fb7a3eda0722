"""The transparency log's tiles and checkpoint in the archive bucket (Object Lock in AWS), and the key
that signs its checkpoints (an SSM SecureString holding a signed-note signer key)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError

from shared import resources
from shared.adapters.aws import client
from shared.audit.note import Signer


class BucketTiles:
    def __init__(self, bucket: str | None = None) -> None:
        self._bucket = bucket or resources.EVENT_ARCHIVE.name

    def get(self, path: str) -> bytes | None:
        try:
            return client("s3").get_object(Bucket=self._bucket, Key=path)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def put(self, path: str, body: bytes) -> None:
        client("s3").put_object(Bucket=self._bucket, Key=path, Body=body, ChecksumAlgorithm="SHA256")


def log_signer() -> Signer:
    name = resources.parameter_name(resources.AUDIT_LOG_KEY_PARAMETER)
    return Signer.from_key(parameters.get_parameter(name, decrypt=True, max_age=300))


class LazySigner:
    """The log's signer, its key fetched on first use (so building the services reads no parameter)."""

    @property
    def name(self) -> str:
        return log_signer().name

    def sign(self, text: str) -> str:
        return log_signer().sign(text)
