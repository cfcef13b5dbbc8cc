"""Query-string parsing with field-named errors."""

from __future__ import annotations

from datetime import UTC, datetime

from ..domain.errors import FieldErrors
from ..domain.model import Modality

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Query:
    def __init__(self, params: dict[str, str]) -> None:
        self.params = params
        self.errors = FieldErrors()

    def text(self, name: str, *, required: bool = False, pattern: str | None = None) -> str | None:
        import re

        value = self.params.get(name)
        if value in (None, ""):
            if required:
                self.errors.add(name, "is required")
            return None
        if pattern and not re.fullmatch(pattern, value):
            self.errors.add(name, "is not in the expected format")
            return None
        return value

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            self.errors.add(name, "must be an RFC 3339 date-time with an offset")
            return None
        if parsed.tzinfo is None:
            self.errors.add(name, "must carry a UTC offset (e.g. 2026-03-09T09:00:00-05:00)")
            return None
        return parsed.astimezone(UTC)

    def modality(self, name: str) -> Modality | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return Modality(value)
        except ValueError:
            self.errors.add(name, "must be one of in_person, video, phone")
            return None

    def limit(self) -> int:
        value = self.text("limit")
        if value is None:
            return DEFAULT_LIMIT
        if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
            self.errors.add("limit", f"must be an integer from 1 to {MAX_LIMIT}")
            return DEFAULT_LIMIT
        return int(value)

    def done(self) -> None:
        self.errors.raise_if_any()
