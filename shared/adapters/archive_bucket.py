"""The S3 event archive: immutable JSON Lines objects (Object Lock in AWS)."""

from __future__ import annotations

from collections.abc import Iterator

from shared import resources
from shared.adapters.aws import client


class ArchiveBucket:
    def __init__(self, bucket: str | None = None) -> None:
        self._bucket = bucket or resources.EVENT_ARCHIVE.name

    def put(self, key: str, body: bytes) -> None:
        client("s3").put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson", ChecksumAlgorithm="SHA256"
        )

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def get(self, key: str) -> bytes:
        return client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read()
