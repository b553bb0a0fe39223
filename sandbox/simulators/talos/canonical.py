"""Machine configs re-encoded as a Talos node encodes them: fields in Go struct order, Go map keys sorted.

The JSON schema lists each document's properties in the order of the Go struct fields, so it serves as the field
order; a mapping without listed properties is a Go map and comes out sorted. Diffs and "can this be applied in
place" questions compare these encodings, as Talos compares its own re-encoded configs, so that the order of keys
in a user's file never shows up as a change.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from . import SCHEMA_JSON, yamlio

_V1ALPHA1_TOP = ("version", "debug", "persist", "machine", "cluster")


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The published config schema (config.schema.json of the contract), read once per process."""
    return json.loads(SCHEMA_JSON.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _kinds() -> dict[str, str]:
    """Document kind -> ``$defs`` name (the v1alpha1 document, which has no kind, is ``v1alpha1.Config``)."""
    result = {}
    for name, definition in schema()["$defs"].items():
        kind = definition.get("properties", {}).get("kind", {}).get("enum")
        if kind:
            result[kind[0]] = name
    return result


def definition_for(document: dict[str, Any]) -> str | None:
    if "kind" not in document and "apiVersion" not in document:
        return "v1alpha1.Config"
    return _kinds().get(str(document.get("kind")))


def warm() -> None:
    """Read the schema now (what the resident stand-in does once, before forking)."""
    _kinds()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    definitions = schema()["$defs"]
    for _depth in range(16):
        reference = node.get("$ref")
        if not reference:
            return node
        node = definitions[reference.rsplit("/", 1)[1]]
    return node


def _ordered(value: Any, schema: dict[str, Any]) -> Any:
    schema = _resolve(schema)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        if properties:
            keys = [key for key in properties if key in value] + sorted(k for k in value if k not in properties)
            return {key: _ordered(value[key], properties.get(key, {})) for key in keys}
        additional = schema.get("additionalProperties")
        inner = additional if isinstance(additional, dict) else {}
        return {key: _ordered(value[key], inner) for key in sorted(value, key=str)}
    if isinstance(value, list):
        listed = schema.get("items")
        items = listed if isinstance(listed, dict) else {}
        return [_ordered(item, items) for item in value]
    return value


def document(doc: dict[str, Any]) -> dict[str, Any]:
    name = definition_for(doc)
    if name is None:
        return doc
    ordered = _ordered(doc, {"$ref": f"#/$defs/{name}"})
    if name == "v1alpha1.Config":
        keys = [key for key in _V1ALPHA1_TOP if key in ordered] + [k for k in ordered if k not in _V1ALPHA1_TOP]
        ordered = {key: ordered[key] for key in keys}
    return ordered


def documents(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [document(doc) for doc in docs]


def encode(docs: list[dict[str, Any]]) -> str:
    """The canonical text of a multi-document config."""
    return yamlio.dump_documents(documents(docs))


def encode_text(text: str) -> str:
    """The canonical text of a config file (empty for an empty one)."""
    return encode(yamlio.load_documents(text)) if text.strip() else ""
