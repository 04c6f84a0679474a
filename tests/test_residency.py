"""Region resolution against the hostname shapes clouds really use."""

from __future__ import annotations

import pytest

from pytest_stexcel_privacy.observe.residency import LOCAL, NOT_US, UNKNOWN, US, host_of, resolve


@pytest.mark.parametrize(
    ("endpoint", "region", "verdict"),
    [
        # AWS regional, FIPS, dual-stack, GovCloud
        ("https://sqs.us-east-1.amazonaws.com/123/queue", "us-east-1", US),
        ("sqs-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", US),
        ("https://s3.dualstack.us-west-2.amazonaws.com", "us-west-2", US),
        ("https://s3-fips.dualstack.us-east-2.amazonaws.com", "us-east-2", US),
        ("https://dynamodb.eu-west-1.amazonaws.com", "eu-west-1", NOT_US),
        # S3 virtual-hosted, path style, legacy dash
        ("https://attachments.s3.us-east-1.amazonaws.com/a.pdf", "us-east-1", US),
        ("https://my.bucket.with.dots.s3.eu-central-1.amazonaws.com", "eu-central-1", NOT_US),
        ("https://s3-us-west-2.amazonaws.com/bucket/key", "us-west-2", US),
        ("https://bucket.s3-eu-west-1.amazonaws.com", "eu-west-1", NOT_US),
        # RDS, ElastiCache
        (
            "postgresql://u@erp.cluster-c9akciq32.us-east-2.rds.amazonaws.com:5432/erp",
            "us-east-2",
            US,
        ),
        ("mysql://db.c1.eu-central-1.rds.amazonaws.com:3306/x", "eu-central-1", NOT_US),
        ("redis://cache.abc123.ng.0001.use1.cache.amazonaws.com:6379", "us-east-1", US),
        ("redis://cache.abc123.ng.0001.euw1.cache.amazonaws.com:6379", "eu-west-1", NOT_US),
        ("rediss://master.cache.abc.us-west-1.cache.amazonaws.com", "us-west-1", US),
        # China partition
        ("https://s3.cn-north-1.amazonaws.com.cn", "cn", NOT_US),
        # Google Cloud
        ("https://us-central1-aiplatform.googleapis.com/v1", "us-central1", US),
        ("https://europe-west4-aiplatform.googleapis.com", "europe-west4", NOT_US),
        ("https://storage.us-east1.rep.googleapis.com", "us-east1", US),
        ("shop-prod:us-east4:erp-db", "us-east4", US),
        ("shop-prod:europe-west1:erp-db", "europe-west1", NOT_US),
        # Azure
        ("https://erp.eastus2.cloudapp.azure.com", "eastus2", US),
        ("https://westeurope.api.cognitive.microsoft.com", "westeurope", NOT_US),
        ("https://ci.westus3.azurecontainer.io", "westus3", US),
        # Odd spellings: upper case, trailing dot, port
        ("HTTPS://S3.US-EAST-1.AMAZONAWS.COM.:443/x", "us-east-1", US),
        ("sqs.eu-west-3.amazonaws.com.:443", "eu-west-3", NOT_US),
    ],
)
def test_region_from_endpoint(endpoint: str, region: str, verdict: str) -> None:
    found = resolve(endpoint=endpoint)
    assert (found.region, found.verdict) == (region, verdict)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://bucket.s3.amazonaws.com",  # the global S3 endpoint says nothing of the bucket
        "https://myaccount.blob.core.windows.net",  # Azure storage accounts: no region in the name
        "https://storage.googleapis.com",
        "https://analytics.example.com",
        "https://[2001:db8::1]:8443/x",
        "203.0.113.7:5432",
        "",
    ],
)
def test_what_cannot_be_decided_is_unknown_never_us(endpoint: str) -> None:
    found = resolve(endpoint=endpoint or None)
    assert found.verdict == UNKNOWN
    assert not found.allowed


def test_declared_regions() -> None:
    assert resolve("us-east-1").verdict == US
    assert resolve("US-West-2").verdict == US
    assert resolve("eu-west-1").verdict == NOT_US
    assert resolve("mars-1").verdict == NOT_US
    assert resolve("", None).verdict == UNKNOWN


def test_declared_and_endpoint_must_agree() -> None:
    conflict = resolve("us-east-1", "https://s3.eu-west-1.amazonaws.com")
    assert conflict.verdict == NOT_US
    assert "but 'us-east-1' was declared" in conflict.source
    assert resolve("us-east-1", "https://s3.us-east-1.amazonaws.com").verdict == US


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "localhost:6379", "http://[::1]:80"])
def test_loopback_is_this_machine(endpoint: str) -> None:
    assert resolve(endpoint=endpoint).verdict == LOCAL
    assert resolve("us-east-1", endpoint).verdict == US  # a declared region speaks for it


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://A.Example.COM.:8443/x", "a.example.com"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("db.example.com:5432", "db.example.com"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_host_of(text: str, host: str) -> None:
    assert host_of(text) == host
