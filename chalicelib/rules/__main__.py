"""python -m chalicelib.rules validate|build|schema"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from .bundle import SOURCE_DIR, RulesError, due_for_review, validate_sources, write_bundle
from .schema import FILE_MODELS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.rules")
    parser.add_argument("command", choices=["validate", "build", "schema"])
    parser.add_argument("--today", type=date.fromisoformat, default=date.today())
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            write_schemas()
            return 0
        files = validate_sources()
        if args.command == "build":
            print(f"wrote {write_bundle()}")
        print(f"{len(files)} rules files valid")
        for f in due_for_review(files, args.today):
            print(f"REVIEW DUE: {f.path} (review_by {f.model.review_by}, checked_on {f.model.checked_on})")
    except RulesError as exc:
        print(f"INVALID: {exc}", file=sys.stderr)
        return 1
    return 0


def schema_documents() -> dict[str, str]:
    return {f"{kind}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
            for kind, model in FILE_MODELS.items()}


def write_schemas() -> None:
    out = SOURCE_DIR / "schema"
    out.mkdir(exist_ok=True)
    for name, text in schema_documents().items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    sys.exit(main())
