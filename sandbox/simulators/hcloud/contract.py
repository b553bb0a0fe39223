"""Checking traffic against the Hetzner Cloud OpenAPI 3.1 spec (tests/contracts/hetzner-cloud/cloud.spec.json).

An OpenAPI 3.1 schema is a JSON Schema 2020-12 schema, so ``jsonschema`` validates bodies directly; ``$ref`` into
``#/components`` is resolved through a ``referencing`` registry holding the whole spec. Two readings of the spec
are applied to *requests* only, because the real API behaves so:

- unknown fields are refused: every object schema in a request body is closed with ``unevaluatedProperties:
  false`` (closing at the composed level keeps ``allOf``/``oneOf`` branches working);
- an optional field may be sent as ``null``, meaning "not given" (the API's Go backend decodes into pointers;
  the official clients send e.g. ``"type": null`` to enable_rescue); the handlers then see it absent;
- a field documented as "ID or name" (``type: string``) also takes an integer ID, which the official clients send
  (``hcloud`` sends ``"image": 42`` once it knows the image's ID).

Responses are checked against the spec as published. Error responses are listed as ``4xx``/``5xx`` (upper case in
places); both spellings are matched.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[3] / "tests" / "contracts" / "hetzner-cloud" / "cloud.spec.json"
METHODS = ("get", "post", "put", "delete", "patch")
# Answers the spec snapshot (2026-07) does not list but the pinned client (hcloud 2.27.0) requires: validated
# against the named operation's response instead. DELETE /load_balancers/{id} returns {"action": ...} for it.
NEWER_THAN_SPEC = {
    (
        "DELETE",
        "/load_balancers/{id}",
        200,
    ): "/paths/~1load_balancers~1{id}~1actions~1change_protection/post/responses/201",
}
_ERROR_ROW = re.compile(r"^\|\s*`(\d{3})`\s*\|\s*`([a-z0-9_]+)`\s*\|", re.MULTILINE)
_ID_OR_NAME = re.compile(r"\bID\b.*\bname\b|IDs \(`integer`\) or names", re.IGNORECASE)


@dataclass
class FieldProblem:
    name: str  # dotted path of the field, as the API names it ("public_net.enable_ipv4", "labels")
    message: str


@dataclass
class Operation:
    method: str
    template: str  # "/servers/{id}"
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    pointer: str  # JSON pointer of the operation object
    parameters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # its "Operation specific errors": code -> status


def operation_errors(description: str) -> dict[str, int]:
    """The codes (and statuses) of the table under "Operation specific errors" in an operation's description."""
    _before, heading, section = description.partition("Operation specific errors")
    return {code: int(status) for status, code in _ERROR_ROW.findall(section)} if heading else {}


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _accept_integer_ids(schema: dict[str, Any], in_branch: bool) -> None:
    """An "ID or name" string (outside allOf/oneOf/anyOf branches) or array of them also takes an integer."""
    if not _ID_OR_NAME.search(str(schema.get("description", ""))):
        return
    if not in_branch and schema.get("type") in ("string", ["string", "null"]):
        schema["type"] = ["string", "integer", "null"]
    if schema.get("type") in ("array", ["array", "null"]):
        items = schema.get("items")
        if isinstance(items, dict) and items.get("type") in ("string", ["string", "null"]):
            items["type"] = ["string", "integer"]


def _close_objects(schema: Any, in_branch: bool = False) -> None:
    """Refuse unknown fields (see module docstring) and let "ID or name" strings take integers."""
    if isinstance(schema, list):
        for item in schema:
            _close_objects(item, in_branch)
        return
    if not isinstance(schema, dict):
        return
    composed = any(key in schema for key in ("allOf", "oneOf", "anyOf"))
    is_object = schema.get("type") == "object" or "properties" in schema or composed
    if is_object and not in_branch and "additionalProperties" not in schema:
        schema["unevaluatedProperties"] = False
    _accept_integer_ids(schema, in_branch)
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        if name not in required and isinstance(sub, dict) and isinstance(sub.get("type"), str):
            sub["type"] = [sub["type"], "null"]  # an optional field sent as null counts as not sent
            if "enum" in sub:
                sub["enum"] = [*sub["enum"], None]
    for key, value in schema.items():
        if key in ("allOf", "oneOf", "anyOf"):
            _close_objects(value, in_branch=True)
        elif key in ("properties", "patternProperties", "$defs"):
            for sub in value.values():
                _close_objects(sub)
        elif key in ("items", "additionalProperties", "prefixItems", "not", "if", "then", "else"):
            _close_objects(value)


class Contract:
    """The operations of the spec and validators for their parameters, request bodies and responses."""

    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        text = spec_path.read_text(encoding="utf-8")
        self.spec: dict[str, Any] = json.loads(text)
        self.request_spec: dict[str, Any] = json.loads(text)
        for item in self.request_spec["paths"].values():
            for method in METHODS:
                body = (item.get(method) or {}).get("requestBody") or {}
                for media in body.get("content", {}).values():
                    _close_objects(media.get("schema"))
        for schema in self.request_spec.get("components", {}).get("schemas", {}).values():
            _close_objects(schema, in_branch=True)  # only used inside allOf/oneOf of request bodies
        self.registry = Registry().with_resources(
            [
                ("urn:hcloud:spec", Resource.from_contents(self.spec, default_specification=DRAFT202012)),
                ("urn:hcloud:requests", Resource.from_contents(self.request_spec, default_specification=DRAFT202012)),
            ]
        )
        self.operations: list[Operation] = []
        for template, item in self.spec["paths"].items():
            regex = re.sub(r"\\\{[^}]+\\\}", lambda m: f"(?P<{m.group(0)[2:-2]}>[^/]+)", re.escape(template))
            for method in METHODS:
                if method in item:
                    pointer = f"/paths/{_escape(template)}/{method}"
                    operation = Operation(method.upper(), template, re.compile(regex), item[method], pointer)
                    for parameter in [*item.get("parameters", []), *item[method].get("parameters", [])]:
                        operation.parameters[(parameter["in"], parameter["name"])] = parameter
                    operation.errors = operation_errors(item[method].get("description", ""))
                    self.operations.append(operation)
        # literal segments win over templated ones (/servers/actions before /servers/{id})
        self.operations.sort(key=lambda op: (op.template.count("{"), -len(op.template)))
        self._validators: dict[str, Draft202012Validator] = {}
        self._lock = threading.Lock()

    # --- lookup -----------------------------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], bool]:
        """(operation, path parameters, path known with another method)."""
        other_method = False
        for operation in self.operations:
            found = operation.pattern.fullmatch(path)
            if found:
                if operation.method == method:
                    return operation, found.groupdict(), False
                other_method = True
        return None, {}, other_method

    def validator(self, base: str, pointer: str) -> Draft202012Validator:
        key = base + "#" + pointer
        with self._lock:
            validator = self._validators.get(key)
            if validator is None:
                validator = Draft202012Validator({"$ref": key}, registry=self.registry)
                self._validators[key] = validator
        return validator

    # --- requests ---------------------------------------------------------------------------------------------
    def check_parameters(
        self, operation: Operation, path_params: dict[str, str], query: dict[str, list[str]]
    ) -> tuple[dict[str, Any], list[FieldProblem]]:
        """Typed query and path values (by the spec's schemas) and the problems found."""
        values: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for (where, name), parameter in operation.parameters.items():
            raw: list[str] | None
            if where == "path":
                raw = [path_params[name]] if name in path_params else None
            elif where == "query":
                raw = query.get(name)
            else:
                continue
            if raw is None:
                if parameter.get("required"):
                    problems.append(FieldProblem(name, "is required"))
                continue
            schema = parameter.get("schema", {})
            value, message = _coerce(raw, schema)
            if message is None:
                errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
                message = errors[0].message if errors else None
            if message:
                problems.append(FieldProblem(name, message))
            else:
                values[name] = value
        return values, problems

    def check_request_body(self, operation: Operation, body: Any) -> list[FieldProblem]:
        request_body = operation.spec.get("requestBody")
        if request_body is None:
            return []
        if "application/json" not in request_body.get("content", {}):
            return []
        pointer = f"{operation.pointer}/requestBody/content/application~1json/schema"
        validator = self.validator("urn:hcloud:requests", pointer)
        return [_problem(error) for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path))]

    # --- responses --------------------------------------------------------------------------------------------
    def response_pointer(self, operation: Operation, status: int) -> str | None:
        newer = NEWER_THAN_SPEC.get((operation.method, operation.template, status))
        if newer:
            return newer + "/content/application~1json/schema"
        responses = operation.spec.get("responses", {})
        for key in (str(status), f"{str(status)[0]}xx", f"{str(status)[0]}XX", "default"):
            if key in responses:
                content = responses[key].get("content")
                if not content:
                    return ""  # a response without a body (204)
                return f"{operation.pointer}/responses/{key}/content/application~1json/schema"
        return None

    def check_response(self, operation: Operation, status: int, body: Any) -> list[str]:
        """Problems of a response against the spec (an empty list when it conforms)."""
        pointer = self.response_pointer(operation, status)
        if pointer is None:
            return [f"status {status} is not documented for {operation.method} {operation.template}"]
        if pointer == "":
            return [] if body is None else [f"status {status} of {operation.method} {operation.template} has no body"]
        validator = self.validator("urn:hcloud:spec", pointer)
        return [_response_problem(error) for error in validator.iter_errors(body)]


def without_nulls(value: Any) -> Any:
    """The body as handlers see it: optional fields sent as null are left out."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _coerce(raw: list[str], schema: dict[str, Any]) -> tuple[Any, str | None]:
    """Query strings to the JSON types their schema names (arrays may be repeated parameters)."""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        converted = []
        for text in raw:
            value, message = _coerce([text], items)
            if message:
                return None, message
            converted.append(value)
        return converted, None
    text = raw[-1]
    if kind == "integer":
        return (int(text), None) if re.fullmatch(r"-?\d+", text) else (None, "is not a valid integer")
    if kind == "boolean":  # what Go's strconv.ParseBool takes (Python clients send "True")
        if text in ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"):
            return text in ("1", "t", "T", "TRUE", "true", "True"), None
        return None, "is not a valid boolean"
    if kind == "number":
        try:
            return float(text), None
        except ValueError:
            return None, "is not a valid number"
    return text, None


def _response_problem(error: Any) -> str:
    """A response's problem at the field at fault: into the closest allOf/oneOf/anyOf branch, not the whole object."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for item in error.context:
            branches.setdefault(item.relative_schema_path[0] if item.relative_schema_path else None, []).append(item)

        def distance(items: list[Any]) -> tuple[bool, int, int]:
            # a branch whose discriminator (an enum or const) differs is not the one meant; then the fewest problems
            wrong_kind = any(item.validator in ("enum", "const") for item in items)
            return wrong_kind, len(items), -max(len(item.absolute_path) for item in items)

        error = best_match(min(branches.values(), key=distance))
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    message = error.message if len(error.message) < 200 else error.message[:200] + "..."
    return f"{where}: {message}"


def _problem(error: Any) -> FieldProblem:
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _problem(best_match(error.context))  # the branch that came closest says what is wrong
    name = ".".join(str(part) for part in error.absolute_path)
    if error.validator in ("oneOf", "anyOf"):
        return FieldProblem(name or "(body)", "matches none or more than one of the allowed forms")
    if error.validator == "unevaluatedProperties":
        unknown = re.findall(r"'([^']+)'", error.message.partition("(")[2]) or sorted(error.instance)
        prefix = f"{name}." if name else ""
        return FieldProblem(prefix + str(unknown[0]), "unknown field")
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        prefix = f"{name}." if name else ""
        return FieldProblem(prefix + (missing.group(1) if missing else ""), "is required")
    if error.validator == "type":
        return FieldProblem(name or "(body)", f"must be of type {error.validator_value}")
    return FieldProblem(name or "(body)", error.message)


_CONTRACT: Contract | None = None
_CONTRACT_LOCK = threading.Lock()


def shared_contract() -> Contract:
    """One parsed spec per process (parsing 3.4 MB of JSON takes a moment)."""
    global _CONTRACT
    with _CONTRACT_LOCK:
        if _CONTRACT is None:
            _CONTRACT = Contract()
        return _CONTRACT


def copy_of(value: Any) -> Any:
    return copy.deepcopy(value)
