"""Domain dataclasses <-> JSON-safe documents, through pydantic's dataclass support."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _adapter(cls: type[Any]) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


def to_doc(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = _adapter(type(obj)).dump_python(obj, mode="json")
    return doc


def from_doc(cls: type[T], doc: Any) -> T:
    value: T = _adapter(cls).validate_python(_plain(doc))
    return value


def _plain(value: Any) -> Any:
    """PynamoDB raw maps come back as MapAttribute objects and Decimals; make them plain."""
    from decimal import Decimal

    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
