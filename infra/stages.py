"""The deployed stages of .chalice/config.json, generated from infra/regions.json.

    python -m infra.stages --write   # rewrite the region stages (other stages are kept)
    python -m infra.stages --check   # exit 1 when .chalice/config.json differs (run by the tests)

Adding a region is one entry in regions.json, then --write. Values that only exist once a stack is
deployed (Cognito issuer and client, the pseudonym-key secret ARN) are set by the stack itself
(infra/api.py), so they are never placeholders here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .config import InfraConfig, RegionConfig, load

CHALICE_CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def stage_entry(config: InfraConfig, region: RegionConfig) -> dict[str, Any]:
    return {
        "api_gateway_stage": config.api_stage,
        # Regional endpoint: an edge-optimized API would route callers through CloudFront worldwide.
        "api_gateway_endpoint_type": "REGIONAL",
        "environment_variables": {
            "HCO_STAGE": region.stage,
            "HCO_TABLE_PREFIX": config.prefix(region),
            "HCO_CHIME_CONTROL_REGION": region.chime_control_region,
        },
    }


def generated(current: dict[str, Any], config: InfraConfig) -> dict[str, Any]:
    """`current` with one stage per configured region; stages not named prod-* (local) are kept."""
    stages = {name: value for name, value in current.get("stages", {}).items() if not name.startswith("prod-")}
    for region in config.regions:
        stages[region.stage] = stage_entry(config, region)
    return {**current, "stages": stages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    current = json.loads(CHALICE_CONFIG.read_text())
    wanted = generated(current, load())
    if args.write:
        CHALICE_CONFIG.write_text(json.dumps(wanted, indent=2) + "\n")
        return 0
    if current != wanted:
        print(f"{CHALICE_CONFIG} does not match infra/regions.json: run `python -m infra.stages --write`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
