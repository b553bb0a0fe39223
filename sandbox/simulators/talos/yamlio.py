"""YAML in and out, written the way Talos (go-yaml v4) writes it: 4-space indentation, fields in struct order."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ...goyaml.emit import Emitter
from ...goyaml.nodes import Mapping, Sequence, represent


def _node(value: Any) -> Any:
    """A node tree keeping the insertion order of mappings (Go structs), where go-yaml would sort Go maps."""
    if isinstance(value, dict):
        return Mapping([(represent(key), _node(item)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return Sequence([_node(item) for item in value])
    return represent(value)


def dump(value: Any) -> str:
    """One YAML document (no ``---``)."""
    return Emitter().document(_node(value))


def dump_documents(documents: list[dict[str, Any]]) -> str:
    """A multi-document config, documents separated by ``---`` lines as Talos writes them."""
    return "---\n".join(dump(document) for document in documents)


class _Loader(yaml.SafeLoader):
    """The safe loader with go-yaml v3/v4's plain scalars: no timestamps, and only true/false are booleans
    (``auto: off`` is the text "off")."""


_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, _BOOL if tag == "tag:yaml.org,2002:bool" else regexp)
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_all(text: str) -> list[Any]:
    """Every document of a YAML stream, None for empty ones (go-yaml's scalar rules, see _Loader)."""
    return list(yaml.load_all(text, Loader=_Loader))


class YAMLError(ValueError):
    """A file that is not YAML, or not a list of mappings."""


def load_documents(text: str, what: str = "config") -> list[dict[str, Any]]:
    """The mapping documents of a YAML stream (empty documents skipped)."""
    try:
        documents = [document for document in load_all(text) if document is not None]
    except yaml.YAMLError as error:
        raise YAMLError(f"failed to decode {what}: {error}") from None
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            raise YAMLError(
                f"failed to decode {what}: document {index + 1} is a {type(document).__name__}, not a mapping"
            )
    return documents


def load_one(text: str, what: str) -> dict[str, Any]:
    documents = load_documents(text, what)
    if len(documents) != 1:
        raise YAMLError(f"failed to decode {what}: expected one YAML document, found {len(documents)}")
    return documents[0]
