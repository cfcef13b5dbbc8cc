"""Package the Chalice app for a stack, on the Lambda runtime pinned in infra/regions.json.

Chalice picks the Lambda runtime (and the wheel ABI it downloads) from the Python that packages
the app. The project's venv may be 3.11; the stacks must run the pinned runtime whatever Python
synthesizes them, so the choice is overridden while Chalice packages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What Chalice deploys: the app, its package and its stage config (never the tests or local/).
_APP_FILES = ("app.py", ".chalice/config.json", ".chalice/policy.json")


@contextlib.contextmanager
def packaging_for(region: str, runtime: str, workdir: Path) -> Iterator[None]:
    """Chalice packages for `runtime` and asks botocore for `region` (service principals; no call is
    made). chalice.cdk writes its packages under ./chalice.out: `workdir` keeps them out of the repo."""
    from chalice.config import Config
    from chalice.deploy.packager import PipRunner

    original = Config.lambda_python_version
    original_download = PipRunner.download_manylinux_wheels
    saved = {name: os.environ.get(name) for name in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    Config.lambda_python_version = property(lambda _self: runtime)  # type: ignore[assignment,method-assign]
    PipRunner.download_manylinux_wheels = _download_for(runtime)  # type: ignore[method-assign]
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = region
    cwd = Path.cwd()
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(cwd)
        Config.lambda_python_version = original  # type: ignore[method-assign]
        PipRunner.download_manylinux_wheels = original_download  # type: ignore[method-assign]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _download_for(runtime: str) -> Any:
    """Chalice's manylinux download without `--python-version` asks pip for wheels of the Python that
    runs it: packaging for python3.12 from 3.11 then finds no pydantic-core or cffi wheel. Same
    call, plus the target version."""
    version = runtime.removeprefix("python")

    def download(self: Any, abi: str, packages: list[str], directory: str,
                 platforms: list[str] | None = None) -> None:
        for package in packages:
            arguments = ["--only-binary=:all:", "--no-deps", "--python-version", version]
            for platform in platforms or ["manylinux2014_x86_64"]:
                arguments += ["--platform", platform]
            arguments += ["--implementation", "cp", "--abi", abi, "--dest", directory, package]
            self._execute("download", arguments)

    return download


def staged_source(with_dependencies: bool) -> Path:
    """The directory Chalice packages.

    With dependencies: the repository itself, so Chalice's wheel cache (.chalice/deployments)
    survives between synths. Without: a copy with an empty requirements.txt, so the template
    tests synthesize offline and quickly; the templates are the same but for the code asset hash.
    """
    if with_dependencies:
        return ROOT
    staged = Path(tempfile.mkdtemp(prefix="hco-chalice-src-"))
    for name in _APP_FILES:
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, staged / name)
    shutil.copytree(ROOT / "chalicelib", staged / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (staged / "requirements.txt").write_text("")
    return staged
