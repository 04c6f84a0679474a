"""Where a store or destination is: region resolution for the ``us-storage`` clause.

A region comes from what the adapter declares, or from an endpoint that
encodes one: AWS service hostnames (regional, FIPS, dual-stack, S3
virtual-hosted and legacy dash forms, RDS, ElastiCache short codes), Google
Cloud (regional ``googleapis.com`` endpoints, Cloud SQL connection names) and
Azure hostnames that carry a region. Anything else is *unknown*, and unknown
is never treated as the United States.

The tables below are the whole rule; each entry says which shapes it reads.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# --- which regions are in the United States ----------------------------------------------

US_REGIONS: frozenset[str] = frozenset(
    {
        # AWS, GovCloud included
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1",
        # Google Cloud
        "us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
        "us-west1", "us-west2", "us-west3", "us-west4", "us", "us-multi-region",
        # Azure (public and Government)
        "eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus",
        "southcentralus", "westcentralus", "usgovvirginia", "usgovarizona", "usgovtexas",
        "usdodeast", "usdodcentral",
    }
)  # fmt: skip

# ElastiCache and some AWS hostnames abbreviate regions: use1 = us-east-1, euc1 = eu-central-1.
AWS_SHORT_CODES: dict[str, str] = {
    "use1": "us-east-1", "use2": "us-east-2", "usw1": "us-west-1", "usw2": "us-west-2",
    "usge1": "us-gov-east-1", "usgw1": "us-gov-west-1",
    "euw1": "eu-west-1", "euw2": "eu-west-2", "euw3": "eu-west-3", "euc1": "eu-central-1",
    "euc2": "eu-central-2", "eun1": "eu-north-1", "eus1": "eu-south-1", "eus2": "eu-south-2",
    "apne1": "ap-northeast-1", "apne2": "ap-northeast-2", "apne3": "ap-northeast-3",
    "apse1": "ap-southeast-1", "apse2": "ap-southeast-2", "aps1": "ap-south-1",
    "cac1": "ca-central-1", "sae1": "sa-east-1", "mes1": "me-south-1", "afs1": "af-south-1",
}  # fmt: skip

AWS_REGION = r"(?P<region>(?:us|eu|ap|ca|sa|me|af|il|mx)(?:-gov)?-[a-z]+-\d)"
GCP_REGION = (
    r"(?P<region>(?:us|europe|asia|australia|northamerica|southamerica|me|africa)-[a-z]+\d+)"
)

# (provider, pattern over the lower-cased hostname); the first match decides.
HOST_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (provider, re.compile(pattern))
    for provider, pattern in (
        # China partitions are never the US, whatever follows
        ("aws", r".*\.amazonaws\.com\.cn$"),
        # RDS: name.cluster-xyz.us-east-1.rds.amazonaws.com
        ("aws", rf"^(?:.+\.)?{AWS_REGION}\.rds\.amazonaws\.com$"),
        # ElastiCache: name.xyz.0001.use1.cache.amazonaws.com or ...cache.us-east-1...
        ("aws", r"^(?:.+\.)?(?P<short>[a-z]{2,5}\d)\.cache\.amazonaws\.com$"),
        ("aws", rf"^(?:.+\.)?{AWS_REGION}\.cache\.amazonaws\.com$"),
        # S3 legacy dash form: bucket.s3-us-west-2.amazonaws.com, s3-us-west-2.amazonaws.com
        ("aws", rf"^(?:.+\.)?s3-{AWS_REGION}\.amazonaws\.com$"),
        # S3 and every service, regional, FIPS, dual-stack, virtual-hosted:
        # bucket.s3.dualstack.us-east-1.amazonaws.com, sqs-fips.us-gov-west-1.amazonaws.com
        ("aws", rf"^(?:.+\.)?{AWS_REGION}\.amazonaws\.com$"),
        # Google Cloud regional endpoints: us-central1-aiplatform.googleapis.com,
        # storage.us-east1.rep.googleapis.com, run.us-west1.rep.googleapis.com
        ("gcp", rf"^{GCP_REGION}-[a-z0-9-]+\.googleapis\.com$"),
        ("gcp", rf"^(?:.+\.)?{GCP_REGION}\.rep\.googleapis\.com$"),
        # Azure hostnames that carry a region: app.eastus.cloudapp.azure.com,
        # eastus.api.cognitive.microsoft.com, name.westeurope.azurecontainer.io
        ("azure", r"^(?:.+\.)?(?P<region>[a-z]+\d?)\.cloudapp\.azure\.com$"),
        ("azure", r"^(?P<region>[a-z]+\d?)\.api\.cognitive\.microsoft\.com$"),
        ("azure", r"^(?:.+\.)?(?P<region>[a-z]+\d?)\.azurecontainer\.io$"),
    )
)

US, NOT_US, UNKNOWN, LOCAL = "us", "not us", "unknown", "local"


@dataclass(frozen=True)
class Residency:
    """Where something is, and how we know."""

    verdict: str  # "us", "not us", "unknown", or "local" (this machine: loopback, a file)
    region: str | None
    source: str  # "declared", the hostname, or why it is unknown

    @property
    def allowed(self) -> bool:
        return self.verdict in (US, LOCAL)

    def describe(self) -> str:
        where = self.region or "no region"
        return f"{where} ({self.verdict}; from {self.source})"


def classify_region(region: str) -> str:
    region = region.strip().lower()
    if not region:
        return UNKNOWN
    return US if region in US_REGIONS else NOT_US


def host_of(endpoint: str) -> str:
    """The hostname of a URL or ``host[:port]``: lower-cased, no trailing dot, no brackets."""
    text = endpoint.strip()
    if "://" in text:
        host = urlsplit(text).hostname or ""
    elif text.startswith("["):
        host = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        host = text.split(":", 1)[0]
    else:
        host = text
    return host.lower().rstrip(".")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def region_of_host(host: str) -> tuple[str, str] | None:
    """(provider, region) when the hostname encodes a region."""
    for provider, pattern in HOST_PATTERNS:
        match = pattern.match(host)
        if not match:
            continue
        groups = match.groupdict()
        if "region" in groups:
            return provider, groups["region"]
        if "short" in groups:
            region = AWS_SHORT_CODES.get(groups["short"])
            return (provider, region) if region else None
        return provider, "cn"  # the China partition
    return None


def cloud_sql_region(connection_name: str) -> str | None:
    """``project:region:instance`` (a Cloud SQL instance connection name)."""
    parts = connection_name.split(":")
    if len(parts) == 3 and re.fullmatch(GCP_REGION, parts[1]):
        return parts[1]
    return None


def resolve(declared: str | None = None, endpoint: str | None = None) -> Residency:
    """Decide from the declared region and the endpoint; they must agree when both speak."""
    if endpoint:
        sql = cloud_sql_region(endpoint)
        host = "" if sql else host_of(endpoint)
        found = ("gcp", sql) if sql else (region_of_host(host) if host else None)
        if found is not None:
            _, region = found
            verdict = classify_region(region)
            if declared and declared.strip().lower() != region:
                return Residency(
                    NOT_US if verdict == NOT_US else UNKNOWN,
                    region,
                    f"{host or endpoint} says {region}, but {declared!r} was declared",
                )
            return Residency(verdict, region, host or endpoint)
        if host and is_loopback(host) and not declared:
            return Residency(LOCAL, None, f"{host} is this machine")
    if declared:
        return Residency(classify_region(declared), declared.strip().lower(), "declared")
    if endpoint:
        return Residency(UNKNOWN, None, f"{host_of(endpoint) or endpoint} encodes no region")
    return Residency(UNKNOWN, None, "no region declared and no endpoint to read one from")
