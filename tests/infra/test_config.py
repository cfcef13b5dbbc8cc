"""The region config is the single source for stacks and Chalice stages."""

from __future__ import annotations

import dataclasses
import json

import pytest

from infra import stages
from infra.config import load, validate

pytestmark = pytest.mark.unit


def test_chalice_stages_are_generated_from_the_region_config():
    assert stages.main(["--check"]) == 0
    config = load()
    current = json.loads(stages.CHALICE_CONFIG.read_text())
    assert {name for name in current["stages"] if name.startswith("prod-")} == {r.stage for r in config.regions}
    assert "local" in current["stages"]


def test_adding_a_region_adds_its_stage():
    config = load()
    extra = dataclasses.replace(config.regions[0], region="us-east-2", stage="prod-us-east-2",
                                chime_control_region="us-east-1", chime_media_region="us-east-2")
    bigger = dataclasses.replace(config, regions=(*config.regions, extra))
    stage = stages.generated({"stages": {"local": {}}}, bigger)["stages"]["prod-us-east-2"]
    assert stage["environment_variables"] == {"HCO_STAGE": "prod-us-east-2", "HCO_TABLE_PREFIX": "hco-prod",
                                              "HCO_CHIME_CONTROL_REGION": "us-east-1"}


def test_a_canadian_stack_whose_chime_media_leaves_canada_is_refused():
    config = load()
    canada = dataclasses.replace(config.region("ca-central-1"), chime_media_region="us-east-1")
    with pytest.raises(ValueError, match="chime_media_region 'us-east-1' leaves residency zone CA"):
        validate(dataclasses.replace(config, regions=(canada,)))


def test_the_config_agrees_with_the_apps_own_chime_region_choice():
    from chalicelib.adapters.chime import choose_media_region, control_region_for

    for region in load().regions:
        assert control_region_for(region.region) == region.chime_control_region
        assert choose_media_region(region.region, None) == region.chime_media_region


def test_every_region_names_a_public_https_origin_for_reminder_links():
    config = load()
    assert all(r.link_base_url.startswith("https://") for r in config.regions)
    for bad in ("http://127.0.0.1:8000", "https://localhost", "https://127.0.0.1", "http://care.example",
                "https://app.localhost", "https://care.example?x=1", ""):
        region = dataclasses.replace(config.region("us-east-1"), link_base_url=bad)
        with pytest.raises(ValueError, match=r"link_base_url .* is not a public https origin"):
            validate(dataclasses.replace(config, regions=(region,)))
