"""Request parameters and response data checked against the PVE schema, the way PVE's JSONSchema does it.

:func:`check_parameters` returns typed values and a dict ``{param: message}`` of errors worded like PVE's
(``property is not defined in schema and the schema does not allow additional properties``, ``type check
('integer') failed - got 'x'``, ``value 'x' does not have a value in the enumeration 'a, b'`` ...); the
simulator answers those with HTTP 400 ``{"errors": {...}, "data": null}``. :func:`check_returns` lists every
place where a response's ``data`` leaves the documented ``returns`` shape.
"""

from __future__ import annotations

import re
from typing import Any

from . import formats

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_INDEXED = re.compile(r"(?P<base>[a-z][a-z0-9_-]*?)(?P<index>\d+)")
_RANGE = re.compile(r"n is (\d+) to (\d+)")
# parameters whose value lists option names of the resource the call changes (PVE: "unknown option" otherwise)
OPTION_LISTS = ("delete", "revert")
_LIST_SEPARATORS = re.compile(r"[;,\s\0]+")


def property_schema(properties: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The schema of ``name``, also for indexed names such as ``net0`` (documented as ``net[n]``)."""
    if name in properties:
        return properties[name]
    found = _INDEXED.fullmatch(name)
    if not found:
        return None
    schema = properties.get(found.group("base") + "[n]")
    if schema is None:
        return None
    index = int(found.group("index"))
    limits = _RANGE.search(str(schema.get("description", "")))
    low, high = (int(limits.group(1)), int(limits.group(2))) if limits else (0, 255)
    return schema if low <= index <= high else None


def coerce(schema: dict[str, Any], raw: Any) -> Any:
    """A raw request value as the schema's type; ValueError with PVE's message when it is not one."""
    kind = schema.get("type", "string")
    text = raw if isinstance(raw, str) else _to_text(raw)
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(f"type check ('integer') failed - got '{text}'")
        value: Any = int(text)
    elif kind == "number":
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"type check ('number') failed - got '{text}'")
        value = float(text)
    elif kind == "boolean":
        if text.lower() not in _TRUE + _FALSE:
            raise ValueError(f"type check ('boolean') failed - got '{text}'")
        return text.lower() in _TRUE
    elif kind in ("string", "array"):
        value = text
    else:
        value = raw
    if kind in ("integer", "number"):
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        if minimum is not None and value < float(minimum):
            raise ValueError(f"value must have a minimum value of {minimum}")
        if maximum is not None and value > float(maximum):
            raise ValueError(f"value must have a maximum value of {maximum}")
        return value
    return _check_string(schema, value)


def _to_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "1" if raw else "0"
    return str(raw)


def _check_string(schema: dict[str, Any], value: str) -> str:
    enum = schema.get("enum")
    if enum and value not in enum:
        raise ValueError(f"value '{value}' does not have a value in the enumeration '{', '.join(enum)}'")
    if schema.get("maxLength") is not None and len(value) > int(schema["maxLength"]):
        raise ValueError(f"value may only be {schema['maxLength']} characters long")
    if schema.get("minLength") is not None and len(value) < int(schema["minLength"]):
        raise ValueError(f"value must be at least {schema['minLength']} characters long")
    pattern = schema.get("pattern")
    if pattern and re.fullmatch(_perl_regex(pattern), value) is None:
        raise ValueError(f"value does not match the regex pattern: {value}")
    shape = schema.get("format")
    if isinstance(shape, dict):
        parse_property_string(shape, value)
    elif isinstance(shape, str):
        try:
            formats.check(shape, value)
        except formats.FormatError as error:
            raise ValueError(f"invalid format - {error}") from None
    return value


def _perl_regex(pattern: str) -> str:
    """Perl's ``(?^:...)`` group and anchors as Python understands them."""
    text = pattern.replace("(?^:", "(?:")
    text = re.sub(r"^\^|(?<=\(\?:)\^", "", text)
    return re.sub(r"\$(?=\)*$)", "", text)


def parse_property_string(shape: dict[str, Any], value: str) -> dict[str, Any]:
    """``key=value,...`` (first item may omit its key: the ``default_key``) checked against ``shape``."""
    default_key = next((key for key, item in shape.items() if item.get("default_key")), None)
    result: dict[str, Any] = {}
    problems: list[str] = []
    for position, item in enumerate(part for part in value.split(",") if part != ""):
        key, separator, text = item.partition("=")
        if not separator:
            if position != 0 or default_key is None:
                raise ValueError(
                    f"invalid format - value without key, but schema does not define a default key: {item}"
                )
            key, text = default_key, item
        entry = shape.get(key)
        if entry is None:
            raise ValueError(f"invalid format - invalid key in comma-separated list property: {key}")
        if "keyAlias" in entry:
            result[entry["keyAlias"]] = key
            key, entry = entry["alias"], shape[entry["alias"]]
        elif "alias" in entry:
            key, entry = entry["alias"], shape[entry["alias"]]
        if key in result:
            raise ValueError(f"invalid format - duplicate key in comma-separated list property: {key}")
        try:
            result[key] = coerce(entry, text)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    for key, entry in shape.items():
        if "alias" not in entry and not entry.get("optional") and key not in result:
            problems.append(f"{key}: property is missing and it is not optional")
    if problems:
        raise ValueError("invalid format - format error\n" + "\n".join(problems))
    return result


def check_parameters(parameters: dict[str, Any], given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(typed values, errors) for the request's parameters (query, body and path together)."""
    properties = parameters.get("properties") or {}
    allow_more = bool(parameters.get("additionalProperties"))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in given.items():
        schema = property_schema(properties, name)
        if schema is None:
            if not allow_more:
                errors[name] = "property is not defined in schema and the schema does not allow additional properties"
            continue
        try:
            if schema.get("type") == "array" or isinstance(raw, list):
                items = raw if isinstance(raw, list) else [raw]
                if schema.get("type") != "array" and len(items) > 1:
                    raise ValueError("duplicate parameter (not an array)")
                item_schema = schema.get("items") or {"type": "string"}
                checked = [coerce(item_schema, item) for item in items]
                values[name] = checked if schema.get("type") == "array" else checked[0]
            else:
                values[name] = coerce(schema, raw)
        except ValueError as error:
            errors[name] = str(error)
    for name, schema in properties.items():
        if name.endswith("[n]"):
            continue
        if not schema.get("optional") and name not in given:
            errors.setdefault(name, "property is missing and it is not optional")
        required = schema.get("requires")
        if isinstance(required, str) and name in given and required not in given:
            errors.setdefault(required, f"property is missing and it is not optional (required by '{name}')")
    return values, errors


def option_names(method: Any, resource: Any | None) -> dict[str, Any]:
    """The option names a list parameter of ``method`` may name: the properties of the resource's configuration
    as its GET documents them (``resource``), else the method's own parameters that are not about the call."""
    returns = (resource.returns.get("properties") if resource is not None else None) or {}
    if returns:
        return {name: item for name, item in returns.items() if name != "digest"}
    placeholders = set(re.findall(r"\{([^}/]+)\}", method.path))
    return {
        name: item
        for name, item in method.properties.items()
        if name not in OPTION_LISTS and name not in placeholders and name not in ("digest", "skiplock")
    }


def check_option_lists(method: Any, resource: Any | None, given: dict[str, Any]) -> dict[str, str]:
    """``{param: message}`` for every option-name list of the call (``delete``, ``revert``) naming an option the
    resource does not have, worded as PVE words it."""
    errors: dict[str, str] = {}
    known: dict[str, Any] | None = None
    for parameter in OPTION_LISTS:
        if parameter not in method.properties or not isinstance(given.get(parameter), str):
            continue
        known = option_names(method, resource) if known is None else known
        for name in _LIST_SEPARATORS.split(given[parameter]):
            if name and property_schema(known, name) is None:
                errors[parameter] = f"unknown option '{name}'"
                break
    return errors


def check_returns(schema: dict[str, Any], data: Any, where: str = "data") -> list[str]:
    """Every place where ``data`` does not have the documented shape (empty list: it matches)."""
    if not schema:
        return []
    if data is None:
        return [] if schema.get("optional") or schema.get("type") in (None, "null") else [f"{where}: null"]
    kind = schema.get("type")
    problems = _type_problems(kind, data, where)
    if problems:
        return problems
    if kind == "object":
        problems += _object_problems(schema, data, where)
    elif kind == "array" and isinstance(schema.get("items"), dict):
        for position, item in enumerate(data):
            problems += check_returns(schema["items"], item, f"{where}[{position}]")
    elif kind == "string" and schema.get("enum") and data not in schema["enum"]:
        problems.append(f"{where}: {data!r} is not one of {schema['enum']}")
    elif kind == "string" and schema.get("pattern") and not re.fullmatch(_perl_regex(schema["pattern"]), data):
        problems.append(f"{where}: {data!r} does not match {schema['pattern']}")
    return problems


def _type_problems(kind: str | None, data: Any, where: str) -> list[str]:
    checks = {
        "object": lambda: isinstance(data, dict),
        "array": lambda: isinstance(data, list),
        "string": lambda: isinstance(data, str),
        "integer": lambda: isinstance(data, int) and not isinstance(data, bool),
        "number": lambda: isinstance(data, (int, float)) and not isinstance(data, bool),
        # PVE's JSON writes booleans as 1/0 (Perl); both spellings are accepted
        "boolean": lambda: isinstance(data, bool) or data in (0, 1),
        "null": lambda: data is None,
    }
    check = checks.get(kind or "")
    if check is None or check():
        return []
    return [f"{where}: expected {kind}, got {type(data).__name__} {data!r}"[:300]]


def _object_problems(schema: dict[str, Any], data: dict[str, Any], where: str) -> list[str]:
    properties = schema.get("properties")
    if not properties:
        return []
    problems: list[str] = []
    for name, value in data.items():
        item = property_schema(properties, name)
        if item is None:
            if not schema.get("additionalProperties"):
                problems.append(f"{where}.{name}: not documented")
            continue
        problems += check_returns(item, value, f"{where}.{name}")
    for name, item in properties.items():
        if not name.endswith("[n]") and not item.get("optional") and name not in data:
            problems.append(f"{where}.{name}: missing (documented as not optional)")
    return problems
