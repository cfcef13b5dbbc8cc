"""What .importlinter cannot check: app.py is a module, not a package, so it is no import-linter root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


def test_app_module_never_imports_the_local_runtime() -> None:
    tree = ast.parse(Path(__file__).resolve().parents[2].joinpath("app.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert "chalicelib" in {name.split(".")[0] for name in imported}  # the walk sees app.py's real imports
    assert not {name for name in imported if name == "local" or name.startswith("local.")}
