"""`python -m chalicelib.rules validate`: exit codes, review reminders, and naming a broken file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.rules.bundle import PACKAGE_DIR, SOURCE_DIR

pytestmark = pytest.mark.unit

REPO = PACKAGE_DIR.parent
RULES_FILES = ("compacts.yaml", "jurisdictions.yaml", "license_types.yaml", "prescribing.yaml", "services.yaml",
               "payers/acme.yaml", "payers/default.yaml", "routing/policy.yaml")


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chalicelib.rules", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def checkout_copy(tmp_path: Path) -> Path:
    """The package and its rules in a scratch dir: the CLI finds scheduling_rules/ next to chalicelib/."""
    shutil.copytree(PACKAGE_DIR, tmp_path / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SOURCE_DIR, tmp_path / "scheduling_rules")
    return tmp_path


def test_validate_passes_on_the_checked_in_rules() -> None:
    result = run_cli("validate", "--today", "2026-11-30")

    assert result.returncode == 0, result.stderr
    assert "rules files valid" in result.stdout
    assert "REVIEW DUE" not in result.stdout


def test_validate_lists_every_file_due_for_review() -> None:
    result = run_cli("validate", "--today", "2099-01-01")

    assert result.returncode == 0, result.stderr
    due = [line for line in result.stdout.splitlines() if line.startswith("REVIEW DUE:")]
    assert sorted(line.split()[2] for line in due) == sorted(RULES_FILES)


def test_prescribing_is_due_for_review_before_the_flexibilities_end() -> None:
    # facts 2: "[?] Re-check the Federal Register in Dec 2026."
    result = run_cli("validate", "--today", "2026-12-15")

    assert "REVIEW DUE: prescribing.yaml" in result.stdout


@pytest.mark.parametrize(
    ("expected", "old", "new"),
    [("compacts.yaml",  # a rule without its citation
      '    source: "ncsbn.org/compacts/aprn-compact.page [P]; NCSBN SD press release 2024-02-05 [P]"\n', ""),
     ("prescribing.yaml",  # a schedule that does not exist
      "    schedules: [II, III, IV, V]\n    modalities: [in_person]\n",
      "    schedules: [II, VI]\n    modalities: [in_person]\n"),
     ("jurisdictions.yaml",  # not YAML at all
      "kind: jurisdictions\n", "kind: jurisdictions\nrules: [oops\n")],
    ids=["rule without source", "unknown schedule", "not YAML"],
)
def test_a_broken_file_exits_1_and_names_the_file(tmp_path: Path, expected: str, old: str, new: str) -> None:
    root = checkout_copy(tmp_path)
    target = root / "scheduling_rules" / expected
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")

    result = run_cli("validate", cwd=root)

    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
