"""The region config (infra/regions.json): one entry per deployed region, read by the CDK app,
the Chalice stage generator and the tests. Plain Python: importing it starts no jsii/Node."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = Path(__file__).with_name("regions.json")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# Where a residency zone's data may live; a stack whose Chime regions leave its zone is refused.
_RESIDENCY_PREFIXES = {"US": ("us-",), "CA": ("ca-",), "EU": ("eu-",)}
# A public https origin (optionally a path): a DNS name, never localhost or an IP literal.
_PUBLIC_HTTPS = re.compile(r"https://(?P<host>[a-z0-9-]+(\.[a-z0-9-]+)+)(/[A-Za-z0-9._~/-]*)?")


@dataclass(frozen=True)
class RegionConfig:
    region: str
    stage: str
    residency: str
    chime_control_region: str
    chime_media_region: str
    # The patient app's public origin in this region: reminder links (confirm, decline, join) point at its
    # /visit/... pages, which call this region's API. Not the API Gateway URL: those pages are not API routes.
    link_base_url: str
    # Set only to switch this region to tables restored from PITR (infra/README.md, "Restore").
    table_prefix: str | None = None

    @property
    def stack_name(self) -> str:
        return f"hco-{self.stage}"


@dataclass(frozen=True)
class InfraConfig:
    app_name: str
    table_prefix: str
    lambda_runtime: str
    api_stage: str
    log_retention_days: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    waf_rate_limit: int
    regions: tuple[RegionConfig, ...]
    # The From address of reminders and waitlist offers (SES identity of its domain, set up per region).
    reminder_sender: str = "reminders@hybrid-care.example"

    def prefix(self, region: RegionConfig) -> str:
        return region.table_prefix or self.table_prefix

    def main_table(self, region: RegionConfig) -> str:
        return f"{self.prefix(region)}-main"  # chalicelib/settings.py Settings.main_table

    def idempotency_table(self, region: RegionConfig) -> str:
        return f"{self.prefix(region)}-idempotency"

    def region(self, name: str) -> RegionConfig:
        return next(r for r in self.regions if r.region == name)


def load(path: Path = CONFIG_FILE) -> InfraConfig:
    raw = json.loads(path.read_text())
    regions = tuple(RegionConfig(**entry) for entry in raw["regions"])
    config = InfraConfig(
        app_name=raw["app_name"], table_prefix=raw["table_prefix"], lambda_runtime=raw["lambda_runtime"],
        api_stage=raw["api_stage"], log_retention_days=int(raw["log_retention_days"]),
        throttle_rate_limit=int(raw["throttle"]["rate_limit"]),
        throttle_burst_limit=int(raw["throttle"]["burst_limit"]),
        waf_rate_limit=int(raw["waf_rate_limit_per_5_min"]), regions=regions,
        **({"reminder_sender": raw["reminder_sender"]} if "reminder_sender" in raw else {}))
    validate(config)
    return config


def _is_public_origin(url: str) -> bool:
    """It goes into patients' SMS and email: a link to this machine or a bare address reaches nobody."""
    match = _PUBLIC_HTTPS.fullmatch(url)
    if match is None:
        return False
    host = match["host"]
    return not (host.endswith(".localhost") or host.replace(".", "").isdigit())


def validate(config: InfraConfig) -> None:
    """Refuse a config that would deploy something we cannot stand behind."""
    problems = []
    if not re.fullmatch(r"python3\.\d+", config.lambda_runtime):
        problems.append(f"lambda_runtime {config.lambda_runtime!r} is not a pinned python3.N runtime")
    seen_regions, seen_stages = set(), set()
    for r in config.regions:
        if not _REGION.match(r.region):
            problems.append(f"{r.region!r} is not a region name")
        if r.region in seen_regions or r.stage in seen_stages:
            problems.append(f"{r.region}/{r.stage} is listed twice")
        seen_regions.add(r.region)
        seen_stages.add(r.stage)
        if not r.stage.endswith(r.region):
            problems.append(f"stage {r.stage!r} must end with its region {r.region!r}")
        prefixes = _RESIDENCY_PREFIXES.get(r.residency)
        if prefixes is None:
            problems.append(f"{r.region}: unknown residency {r.residency!r}")
            continue
        for what in ("region", "chime_control_region", "chime_media_region"):
            if not getattr(r, what).startswith(prefixes):
                problems.append(f"{r.region}: {what} {getattr(r, what)!r} leaves residency zone {r.residency}")
        if not _is_public_origin(r.link_base_url):
            problems.append(f"{r.region}: link_base_url {r.link_base_url!r} is not a public https origin")
    if not re.fullmatch(r"[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+", config.reminder_sender):
        problems.append(f"reminder_sender {config.reminder_sender!r} is not an email address")
    if problems:
        raise ValueError("infra/regions.json: " + "; ".join(problems))
