"""What the emulator knows about Chime SDK Meetings, all read from botocore's service model.

Routing comes from each operation's ``http.method``/``requestUri``; validation from the input
shapes (required members, types, lengths, ranges, patterns, enums); responses are filtered
through the output shapes; errors use the model's error shapes and status codes.

Some limits exist only in the model's *documentation* text, not as formal traits: the
``ExternalUserId``/``ExternalMeetingId`` character pattern and reserved ``aws:`` prefix, and
the list of ``MediaRegion`` values. They are parsed from that text too (``DocumentedRule``), so a
newer botocore brings newer limits with it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import botocore.loaders

SERVICE_NAME = "chime-sdk-meetings"
REGION_TOKEN = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d+$")


class ChimeServiceError(Exception):
    """An error the emulator answers with: ``code`` is a model error shape (or, for injected
    faults only, any code with an explicit ``status``)."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = dict(headers or {})


def bad_request(message: str) -> ChimeServiceError:
    return ChimeServiceError("BadRequestException", message)


def not_found(message: str) -> ChimeServiceError:
    return ChimeServiceError("NotFoundException", message)


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: Mapping[str, str]
    status: int

    def match(self, method: str, path: str, args: Mapping[str, str]) -> dict[str, str] | None:
        if method != self.method or any(args.get(k) != v for k, v in self.query.items()):
            return None
        found = self.path.fullmatch(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class DocumentedRule:
    """A limit stated in a member's documentation rather than as a model trait."""

    pattern: re.Pattern[str] | None = None
    reserved_prefix: str | None = None
    allowed_values: frozenset[str] = field(default_factory=frozenset)

    def problem(self, value: str) -> str | None:
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"must satisfy regular expression pattern: {self.pattern.pattern}"
        if self.reserved_prefix and value.lower().startswith(self.reserved_prefix):
            return f"must not begin with the reserved prefix '{self.reserved_prefix}'"
        if self.allowed_values and value not in self.allowed_values:
            return f"must be one of the documented values: {sorted(self.allowed_values)}"
        return None


def _route_for(name: str, http: Mapping[str, Any]) -> Route:
    path, _, query = http["requestUri"].partition("?")
    literals = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            label = piece[1:-1]
            greedy = label.endswith("+")
            regex += f"(?P<{label.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
        else:
            regex += re.escape(piece)
    return Route(name, http["method"], re.compile(regex), literals, int(http.get("responseCode", 200)))


def _documented_rule(doc: str) -> DocumentedRule | None:
    text = html.unescape(doc)
    pattern = re.search(r"Pattern:\s*<code>(.*?)</code>", text, re.S)
    prefix = re.search(r"begin with\s*<code>([^<]+)</code>\s*are reserved", text)
    values: frozenset[str] = frozenset()
    if "Available values" in text:
        values = frozenset(v for v in re.findall(r"<code>([^<]+)</code>", text) if REGION_TOKEN.match(v))
    rule = DocumentedRule(
        pattern=re.compile(pattern.group(1)) if pattern else None,
        reserved_prefix=prefix.group(1).lower() if prefix else None,
        allowed_values=values,
    )
    return rule if (rule.pattern or rule.reserved_prefix or rule.allowed_values) else None


class ServiceSpec:
    """The parsed model plus the request/response/error machinery derived from it."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        self.model = model
        self.metadata: Mapping[str, Any] = model["metadata"]
        self.operations: Mapping[str, Any] = model["operations"]
        self.shapes: Mapping[str, Any] = model["shapes"]
        # Routes with query literals first, so `?operation=batch-create` wins over the bare path.
        self.routes = sorted(
            (_route_for(n, op["http"]) for n, op in self.operations.items()), key=lambda r: -len(r.query)
        )
        self.error_status = {n: s["error"]["httpStatusCode"] for n, s in self.shapes.items() if s.get("exception")}
        self.documented: dict[tuple[str, str], DocumentedRule] = {}
        for shape_name, shape in self.shapes.items():
            for member, ref in shape.get("members", {}).items():
                rule = _documented_rule(ref.get("documentation", ""))
                if rule:
                    self.documented[(shape_name, member)] = rule

    # ---- routing -------------------------------------------------------------------------
    def match(self, method: str, path: str, args: Mapping[str, str]) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            labels = route.match(method, path, args)
            if labels is not None:
                return route, labels
        return None

    def errors_of(self, operation: str) -> list[str]:
        return [e["shape"] for e in self.operations[operation].get("errors", [])]

    @property
    def media_regions(self) -> frozenset[str]:
        rule = self.documented.get(("CreateMeetingRequest", "MediaRegion"))
        return rule.allowed_values if rule else frozenset()

    # ---- requests ------------------------------------------------------------------------
    def parse_request(
        self,
        operation: str,
        labels: Mapping[str, str],
        args: Mapping[str, str],
        headers: Mapping[str, str],
        body: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Gathers members from URI, query string, headers and JSON body as the model places them."""
        shape_name = self.operations[operation]["input"]["shape"]
        params: dict[str, Any] = {}
        for member, ref in self.shapes[shape_name]["members"].items():
            location = ref.get("location")
            wire = ref.get("locationName", member) if location else ref.get("jsonName", member)
            source = {"uri": labels, "querystring": args, "header": headers}.get(location, body)
            if wire in source:
                params[member] = self._from_wire(ref["shape"], source[wire], location, member)
        self.validate(shape_name, params, deferred={"CreateAttendeeRequestItem"})
        return params

    def _from_wire(self, shape_name: str, raw: Any, location: str | None, member: str) -> Any:
        if location and self.shapes[shape_name]["type"] in ("integer", "long"):
            try:
                return int(raw)
            except ValueError:
                raise bad_request(f"Value '{raw}' at '{_lower_first(member)}' is not a valid integer") from None
        return raw

    def validate(self, shape_name: str, value: Any, *, deferred: frozenset[str] | set[str] = frozenset()) -> None:
        """Raises one BadRequest naming every violation, in the service's message style.

        Structures in `deferred` skip the documented rules: the caller reports those per item
        (the batch operations' ``Errors``)."""
        problems = list(self._problems(shape_name, value, "", deferred))
        if problems:
            count = len(problems)
            plural = "error" if count == 1 else "errors"
            raise bad_request(f"{count} validation {plural} detected: " + "; ".join(problems))

    def documented_problem(self, shape_name: str, value: Mapping[str, Any]) -> str | None:
        for member in self.shapes[shape_name].get("members", {}):
            rule = self.documented.get((shape_name, member))
            if rule and isinstance(value.get(member), str):
                problem = rule.problem(value[member])
                if problem:
                    return f"Value at '{_lower_first(member)}' failed to satisfy constraint: Member {problem}"
        return None

    def _problems(self, shape_name: str, value: Any, path: str, deferred: frozenset[str] | set[str]) -> Iterator[str]:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        type_problem = _type_problem(kind, value)
        if type_problem:
            yield f"Value at '{path}' failed to satisfy constraint: Member must be {type_problem}"
            return
        yield from (
            f"Value at '{path}' failed to satisfy constraint: Member {p}" for p in _trait_problems(shape, value)
        )
        if kind == "structure":
            yield from self._structure_problems(shape_name, shape, value, path, deferred)
        elif kind == "list":
            for index, item in enumerate(value):
                yield from self._problems(shape["member"]["shape"], item, f"{path}.{index + 1}.member", deferred)

    def _structure_problems(
        self,
        shape_name: str,
        shape: Mapping[str, Any],
        value: Mapping[str, Any],
        path: str,
        deferred: frozenset[str] | set[str],
    ) -> Iterator[str]:
        for member in shape.get("required", []):
            if value.get(member) is None:
                yield f"Value null at '{_join(path, member)}' failed to satisfy constraint: Member must not be null"
        for member, ref in shape["members"].items():
            if value.get(member) is None:
                continue
            yield from self._problems(ref["shape"], value[member], _join(path, member), deferred)
            rule = self.documented.get((shape_name, member))
            if rule and shape_name not in deferred and isinstance(value[member], str):
                problem = rule.problem(value[member])
                if problem:
                    yield f"Value at '{_join(path, member)}' failed to satisfy constraint: Member {problem}"

    # ---- responses -----------------------------------------------------------------------
    def shape_output(self, operation: str, output: Mapping[str, Any]) -> dict[str, Any]:
        ref = self.operations[operation].get("output")
        return self._shape_value(ref["shape"], output) if ref else {}

    def _shape_value(self, shape_name: str, value: Any) -> Any:
        """Keeps the response inside the model: an unmodelled member is an emulator bug."""
        shape = self.shapes[shape_name]
        if shape["type"] == "structure":
            unknown = set(value) - set(shape["members"])
            if unknown:
                raise AssertionError(f"{shape_name} has no members {sorted(unknown)}")
            return {k: self._shape_value(shape["members"][k]["shape"], v) for k, v in value.items() if v is not None}
        if shape["type"] == "list":
            return [self._shape_value(shape["member"]["shape"], v) for v in value]
        return value

    def error_body(self, code: str, message: str, request_id: str) -> dict[str, str]:
        members = self.shapes.get(code, {}).get("members", {"Code": 0, "Message": 0, "RequestId": 0})
        body = {"Code": code.removesuffix("Exception"), "Message": message, "RequestId": request_id}
        return {k: v for k, v in body.items() if k in members}


def _type_problem(kind: str, value: Any) -> str | None:
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "structure": (dict,),
        "list": (list,),
        "map": (dict,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "double": (int, float),
        "float": (int, float),
    }
    allowed = expected.get(kind)
    if allowed is None:
        return None
    if isinstance(value, bool) and kind != "boolean":
        return f"a {kind}"
    return None if isinstance(value, allowed) else f"a {kind}"


def _trait_problems(shape: Mapping[str, Any], value: Any) -> Iterator[str]:
    kind = shape["type"]
    size = len(value) if kind in ("string", "list", "map") else value if kind in ("integer", "long") else None
    noun = "length" if kind == "string" else "value" if kind in ("integer", "long") else "size"
    if size is not None and "min" in shape and size < shape["min"]:
        yield f"must have {noun} greater than or equal to {shape['min']}"
    if size is not None and "max" in shape and size > shape["max"]:
        yield f"must have {noun} less than or equal to {shape['max']}"
    if kind == "string" and "enum" in shape and value not in shape["enum"]:
        yield f"must satisfy enum value set: {shape['enum']}"
    if kind == "string" and "pattern" in shape and not _compiled(shape["pattern"]).fullmatch(value):
        yield f"must satisfy regular expression pattern: {shape['pattern']}"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _join(path: str, member: str) -> str:
    return f"{path}.{_lower_first(member)}" if path else _lower_first(member)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@lru_cache(maxsize=1)
def load_spec() -> ServiceSpec:
    """Loads the model once per process (parsing the JSON costs ~30 ms)."""
    model = botocore.loaders.create_loader().load_service_model(SERVICE_NAME, "service-2")
    return ServiceSpec(model)
