"""Synthesize every region's stack once per test session (synth takes 10-30 s).

Under `pytest -n 2` each worker has its own session fixtures, so the first worker to get here
synthesizes and leaves the templates in the session's shared temp dir, under a lock; the other
reads them. (xdist's loadgroup cannot pin the tests to one worker with pytest 9: the group mark
is ignored.)
"""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any

import pytest

from infra.config import InfraConfig, load


@pytest.fixture(scope="session")
def infra_config() -> InfraConfig:
    return load()


def _synthesize(config: InfraConfig) -> dict[str, dict[str, Any]]:
    from infra.app import build  # infra/__init__.py has pointed jsii at the pinned Node

    app, stacks = build(config, with_dependencies=False)  # offline: no wheels, same template
    assembly = app.synth()  # raises when cdk-nag reports a finding nobody acknowledged
    return {region: assembly.get_stack_by_name(stack.stack_name).template for region, stack in stacks.items()}


@pytest.fixture(scope="session")
def synthesized(infra_config: InfraConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """region -> the synthesized CloudFormation template."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _synthesize(infra_config)
    shared = tmp_path_factory.getbasetemp().parent  # one directory per xdist session
    cache = shared / "infra-templates.json"
    with open(shared / "infra-templates.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            cache.write_text(json.dumps(_synthesize(infra_config)))
        return json.loads(cache.read_text())


@pytest.fixture(scope="session")
def templates(synthesized: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """region -> aws_cdk.assertions.Template (built on demand: each costs a jsii round trip)."""
    from aws_cdk.assertions import Template

    class Lazy(dict):
        def __missing__(self, region: str) -> Any:
            self[region] = Template.from_json(synthesized[region])
            return self[region]

    return Lazy()


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}
