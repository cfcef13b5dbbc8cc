"""The CDK app: one stack per region of infra/regions.json, checked by cdk-nag while it synthesizes.

    python -m infra.app [--outdir cdk.out] [--no-dependencies]

exits non-zero when any cdk-nag finding is not suppressed with a reason (infra/nag.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from aws_cdk import App, cx_api  # the pinned Node is chosen in infra/__init__.py

from . import nag
from .chalice_package import staged_source
from .config import InfraConfig, load
from .stack import RegionStack


def build(config: InfraConfig | None = None, *, outdir: str | None = None,
          with_dependencies: bool = True) -> tuple[App, dict[str, RegionStack]]:
    config = config or load()
    # Access-log delivery through a bucket policy, not the legacy LogDeliveryWrite ACL (cfn-lint W3045).
    app = App(outdir=outdir, analytics_reporting=False,
              context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True})
    source = str(staged_source(with_dependencies))
    workdir = Path(outdir).resolve() / "chalice.out" if outdir else Path(tempfile.mkdtemp(prefix="hco-"))
    stacks = {r.region: RegionStack(app, config=config, region=r, source_dir=source, workdir=workdir)
              for r in config.regions}
    nag.add_checks(app)
    for stack in stacks.values():
        nag.suppress(stack, config.region(stack.region))
    return app, stacks


def synth(outdir: str | None = None, *, with_dependencies: bool = True) -> cx_api.CloudAssembly:
    app, _ = build(outdir=outdir, with_dependencies=with_dependencies)
    return app.synth()


def report(outdir: str) -> list[str]:
    """The unacknowledged findings of validation-report.json, one line per rule and construct."""
    path = Path(outdir) / "validation-report.json"
    if not path.exists():
        return []
    lines = []
    for plugin in json.loads(path.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']} ({violation.get('severity')}): {construct['constructPath']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outdir", default="cdk.out")
    parser.add_argument("--no-dependencies", action="store_true",
                        help="package the app without its requirements (offline; templates only)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        assembly = synth(args.outdir, with_dependencies=not args.no_dependencies)
    except RuntimeError as exc:
        if "ValidationFailed" not in str(exc):
            raise
        for line in report(args.outdir):
            print(line, file=sys.stderr)
        print("synth FAILED: cdk-nag findings above are neither fixed nor acknowledged in infra/nag.py",
              file=sys.stderr)
        return 1
    for stack in assembly.stacks:
        print(f"{stack.stack_name} ({stack.environment.region}): {args.outdir}/{stack.template_file}")
    print(f"synth: {len(assembly.stacks)} stacks in {time.monotonic() - started:.1f} s, cdk-nag clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
