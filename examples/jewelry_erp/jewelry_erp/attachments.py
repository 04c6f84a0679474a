"""Design briefs and sketches, kept in an S3 bucket in the shop's US region."""

from __future__ import annotations

import functools
from typing import Any

import boto3

REGION = "us-east-1"


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str | None, region: str) -> Any:
    """One client per endpoint and region for the process, as boto3 advises: building one
    takes longer than most requests (clients are thread-safe)."""
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region)


class AttachmentStore:
    def __init__(self, endpoint_url: str | None, bucket: str, region: str = REGION) -> None:
        self.bucket = bucket
        self.region = region
        self.client: Any = s3_client(endpoint_url, region)

    def create_bucket(self) -> None:
        if self.region == "us-east-1":  # S3's default region takes no location constraint
            self.client.create_bucket(Bucket=self.bucket)
        else:
            self.client.create_bucket(
                Bucket=self.bucket,
                CreateBucketConfiguration={"LocationConstraint": self.region},
            )

    def put(self, key: str, body: bytes, metadata: dict[str, str]) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata)

    def delete_prefix(self, prefix: str) -> None:
        """Every version and delete marker: on a versioned bucket a delete only hides."""
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                self.client.delete_object(
                    Bucket=self.bucket, Key=item["Key"], VersionId=item["VersionId"]
                )
