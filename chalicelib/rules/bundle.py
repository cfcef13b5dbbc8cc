"""Read, validate and bundle rules files; load the bundle once per process."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..domain.model import Discipline, Modality
from ..domain.rulebook import RuleBook, ServiceDefinition
from .schema import FILE_MODELS, FileHeader, ServiceCatalogFile

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SOURCE_DIR = PACKAGE_DIR.parent / "scheduling_rules"
BUNDLE_PATH = PACKAGE_DIR / "rules_data" / "rules.json"


class RulesError(Exception):
    """A rules file is invalid; the message names the file and the failing fields."""


@dataclass(frozen=True)
class RulesFile:
    path: str
    model: FileHeader


def source_files(source_dir: Path = SOURCE_DIR) -> list[Path]:
    return sorted(p for p in source_dir.rglob("*") if p.suffix in {".yaml", ".yml", ".json"}
                  and "schema" not in p.relative_to(source_dir).parts)


def read_source(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:  # name the file: ops edit these by hand
            raise RulesError(f"{path.name}: not valid JSON: {exc}") from exc
    import yaml  # build-time only: the deployed bundle is JSON

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{path.name}: not valid YAML: {exc}") from exc


def validate_document(rel_path: str, data: Any) -> RulesFile:
    from pydantic import ValidationError

    if not isinstance(data, dict) or data.get("kind") not in FILE_MODELS:
        raise RulesError(f"{rel_path}: 'kind' must be one of {sorted(FILE_MODELS)}")
    try:
        model = FILE_MODELS[data["kind"]].model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RulesError(f"{rel_path}: {problems}") from exc
    return RulesFile(rel_path, model)


def validate_sources(source_dir: Path = SOURCE_DIR) -> list[RulesFile]:
    files = [validate_document(str(p.relative_to(source_dir)), read_source(p)) for p in source_files(source_dir)]
    _check_unique_rule_ids(files)
    build_rulebook(files)  # cross-file checks live in the compilers
    return files


def _check_unique_rule_ids(files: Iterable[RulesFile]) -> None:
    seen: dict[str, str] = {}
    for f in files:
        for rule in getattr(f.model, "rules", []):
            if rule.id in seen:
                raise RulesError(f"{f.path}: rule id {rule.id!r} also defined in {seen[rule.id]}")
            seen[rule.id] = f.path


def bundle_json(files: list[RulesFile]) -> str:
    documents = [{"path": f.path, "data": f.model.model_dump(mode="json")} for f in files]
    digest = hashlib.sha256(json.dumps(documents, sort_keys=True).encode()).hexdigest()[:12]
    return json.dumps({"version": digest, "files": documents}, sort_keys=True, indent=1)


def write_bundle(source_dir: Path = SOURCE_DIR, bundle_path: Path = BUNDLE_PATH) -> Path:
    text = bundle_json(validate_sources(source_dir))
    bundle_path.parent.mkdir(parents=True, exist_ok=True)
    bundle_path.write_text(text, encoding="utf-8")
    return bundle_path


def due_for_review(files: Iterable[RulesFile], today: date) -> list[RulesFile]:
    return [f for f in files if f.model.review_by <= today]


# kind -> function(list of that kind's file models) -> value stored in RuleBook.tables[kind]
TABLE_COMPILERS: dict[str, Callable[[list[Any]], Any]] = {}
# Cross-file checks on the built book (e.g. a compact naming an unknown jurisdiction); raise RulesError.
RULEBOOK_CHECKS: list[Callable[[RuleBook], None]] = []


def build_rulebook(files: list[RulesFile], version: str | None = None) -> RuleBook:
    by_kind: dict[str, list[Any]] = {}
    for f in files:
        by_kind.setdefault(f.model.kind, []).append(f.model)
    services = _compile_services(by_kind.get("service_catalog", []))
    tables = {kind: TABLE_COMPILERS[kind](models) if kind in TABLE_COMPILERS else models
              for kind, models in by_kind.items() if kind != "service_catalog"}
    book = RuleBook(version=version or "unbundled", services=services, tables=tables)
    _require_complete(book)
    for check in RULEBOOK_CHECKS:
        check(book)
    return book


def _require_complete(book: RuleBook) -> None:
    """Fail closed: a bundle without a table the licensure decision reads must not load at all."""
    from ..domain.licensure import REQUIRED_TABLES

    missing = [kind for kind in REQUIRED_TABLES if kind not in book.tables]
    if not book.services:
        missing.append("service_catalog")
    if missing:
        raise RulesError(f"the rules lack {', '.join(sorted(missing))}: every licensure decision needs them")


def _compile_services(catalogs: list[ServiceCatalogFile]) -> dict[str, ServiceDefinition]:
    services: dict[str, ServiceDefinition] = {}
    for catalog in catalogs:
        for r in catalog.rules:
            if r.code in services:
                raise RulesError(f"service {r.code} is defined twice")
            services[r.code] = ServiceDefinition(
                rule_id=r.id, code=r.code, name=r.name, duration_minutes=r.duration_minutes,
                disciplines=frozenset(Discipline(d) for d in r.disciplines),
                modalities=frozenset(Modality(m) for m in r.modalities),
                service_type_codes={k: tuple(v) for k, v in r.service_type_codes.items()},
                source=r.source, effective_from=r.effective_from, effective_to=r.effective_to,
                slot_step_minutes=r.slot_step_minutes,
            )
    return services


def load_bundle(bundle_path: Path = BUNDLE_PATH) -> RuleBook:
    if not bundle_path.exists():
        # A developer checkout without `make rules`: validate the sources directly.
        files = validate_sources()
        return build_rulebook(files, version=json.loads(bundle_json(files))["version"])
    document = json.loads(bundle_path.read_text(encoding="utf-8"))
    files = [validate_document(d["path"], d["data"]) for d in document["files"]]
    return build_rulebook(files, version=document["version"])


@cache
def rulebook() -> RuleBook:
    """The process-wide rule book: read once, on first use."""
    return load_bundle()


# Licensure tables register their compilers and checks into the registries above on import.
from . import jurisdiction_compile, payer_compile, routing_compile  # noqa: E402, F401
