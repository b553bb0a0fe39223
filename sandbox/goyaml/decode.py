"""go-yaml's decoding rules, applied to a PyYAML node tree: what the real Image Factory accepts and rejects.

Decoding follows go.yaml.in/yaml/v4 with known-fields checking: unknown keys are errors; a number or bool is
accepted where a string is expected (its source text is kept); a quoted "10" is not an integer; YAML 1.1 words
(yes/off) are accepted for a bool; duplicate keys are errors; a plain ``<<`` merges mappings. Errors are collected
and reported together, worded like go-yaml's. Written for the simulator; it imports nothing from the collection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .keys import GoKey
from .scalars import BOOL, FLOAT, INT, MERGE, NULL, STR, resolve

PLAIN_TAG = "tag:talosforge.sandbox,2026:plain"  # marks an untagged plain scalar, resolved later by go-yaml's rules
_YAML_TAGS = {f"tag:yaml.org,2002:{name}": name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MAX_CONSTRUCTIONS = 100_000
_MAX_DEPTH = 200
_GO_TYPE_NAMES = {
    "str": "string",
    "uint8": "uint8",
    "uint": "uint",
    "bool": "bool",
    "stringmap": "map[string]interface {}",
}
_UINT_LIMITS = {"uint8": 2**8 - 1, "uint": 2**64 - 1}
_OLD_TRUE = frozenset("y Y yes Yes YES on On ON".split())
_OLD_FALSE = frozenset("n N no No NO off Off OFF".split())


class DecodeError(ValueError):
    """The document cannot be decoded; the message is worded like go-yaml's."""


class _Resolver(yaml.resolver.BaseResolver):
    """Leaves plain scalars unresolved (we apply go-yaml's rules, not PyYAML's YAML 1.1 ones)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return PLAIN_TAG if implicit[0] else "tag:yaml.org,2002:str"
        return super().resolve(kind, value, implicit)


class _NodeLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


@dataclass(frozen=True)
class Schema:
    """Go record types to decode into.

    ``structs``: type name -> fields in declaration order as (yaml key, kind, omitempty). A kind is ``"str"``,
    ``"uint8"``, ``"uint"``, ``"bool"``, ``"any"`` (interface{}), ``"stringmap"`` (map[string]any), a struct name,
    an enum name from ``enums``, or ``("list", kind)``. ``enums``: name -> (Go type name, values); an enum is read
    with a TextUnmarshaler (case-insensitive) and its first value is the zero value, left out when omitempty.
    """

    structs: dict[str, list[tuple[str, Any, bool]]]
    enums: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def type_name(self, kind: Any) -> str:
        if isinstance(kind, tuple):
            return "[]" + self.type_name(kind[1])
        if kind in self.enums:
            return self.enums[kind][0]
        return _GO_TYPE_NAMES.get(kind, kind)

    def zero_value(self, kind: Any) -> Any:
        if isinstance(kind, tuple):
            return []
        if kind in self.structs:
            return {name: self.zero_value(field_kind) for name, field_kind, _unused in self.structs[kind]}
        if kind in self.enums:
            return self.enums[kind][1][0]
        return {"str": "", "uint8": 0, "uint": 0, "bool": False, "stringmap": {}, "any": None}[kind]

    def is_zero(self, value: Any, kind: Any) -> bool:
        if kind in self.structs:
            return all(self.is_zero(value[name], field_kind) for name, field_kind, _unused in self.structs[kind])
        if kind in self.enums:
            return bool(value == self.enums[kind][1][0])
        return not value


class Decoder:
    """Builds plain Python records from a PyYAML node tree with go-yaml's decoding rules."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.errors: list[str] = []
        self.constructions = 0
        self.active: list[int] = []

    # scalar helpers
    @staticmethod
    def scalar_tag(node: yaml.ScalarNode) -> tuple[str, Any]:
        if any("\ud800" <= char <= "\udfff" for char in node.value):
            raise DecodeError(f"yaml: line {_line(node)}: found invalid Unicode character escape code")
        if node.tag == PLAIN_TAG:
            return resolve(node.value)
        tag = _YAML_TAGS.get(node.tag)
        if tag is None:
            raise DecodeError(f"yaml: unsupported tag {node.tag!r} at line {_line(node)}")
        if tag == STR:
            return STR, node.value
        resolved_tag, value = resolve(node.value)
        if resolved_tag == INT and tag == FLOAT:
            return FLOAT, float(value)
        if resolved_tag != tag:
            raise DecodeError(
                f"yaml: line {_line(node)}: cannot construct !!{resolved_tag} `{node.value}` as a !!{tag}"
            )
        return tag, value

    @staticmethod
    def node_tag(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "map"
        if isinstance(node, yaml.SequenceNode):
            return "seq"
        return Decoder.scalar_tag(node)[0]

    def type_error(self, node: yaml.Node, tag: str, kind: Any) -> None:
        value = ""
        if isinstance(node, yaml.ScalarNode):
            text = node.value
            value = " `" + (text[:7] + "..." if len(text) > 10 else text) + "`"
        self.errors.append(f"line {_line(node)}: cannot construct !!{tag}{value} into {self.schema.type_name(kind)}")

    # entry point
    def construct(self, node: yaml.Node, kind: Any) -> tuple[bool, Any]:
        self.constructions += 1
        if self.constructions > _MAX_CONSTRUCTIONS or len(self.active) > _MAX_DEPTH:
            raise DecodeError("yaml: document is too large or too deeply nested")
        if id(node) in self.active:
            raise DecodeError(f"yaml: line {_line(node)}: anchor value contains itself")
        self.active.append(id(node))
        try:
            return self._construct(node, kind)
        finally:
            self.active.pop()

    def _construct(self, node: yaml.Node, kind: Any) -> tuple[bool, Any]:
        if kind in self.schema.enums and not isinstance(node, yaml.ScalarNode):
            tag = self.node_tag(node)
            self.errors.append(
                f"line {_line(node)}: cannot construct !!{tag} into {self.schema.type_name(kind)} (TextUnmarshaler)"
            )
            return False, self.schema.zero_value(kind)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, kind)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node, kind)
        return self.mapping(node, kind)

    def scalar(self, node: yaml.ScalarNode, kind: Any) -> tuple[bool, Any]:
        tag, value = self.scalar_tag(node)
        if tag == NULL:
            return kind in ("any", "stringmap") or isinstance(kind, tuple), self.schema.zero_value(kind)
        if kind in self.schema.enums:
            type_name, values = self.schema.enums[kind]
            name = node.value.lower()
            if node.value in values or name in values:
                return True, name
            self.errors.append(f"line {_line(node)}: {node.value} does not belong to {type_name.split('.')[-1]} values")
            return False, values[0]
        if tag == MERGE:  # a plain "<<" as a value: a string field takes it, anything else silently stays empty
            return (True, "<<") if kind == "str" else (False, self.schema.zero_value(kind))
        if kind == "any":
            return True, (node.value if tag == STR else value)
        if kind == "str" and tag in (STR, INT, FLOAT, BOOL):
            return True, node.value  # go-yaml keeps the source text of a number or bool for a string field
        if kind in _UINT_LIMITS:
            number = value if tag == INT else (int(value) if tag == FLOAT and float(value).is_integer() else None)
            if number is not None and 0 <= number <= _UINT_LIMITS[kind]:
                return True, int(number)
        if kind == "bool":
            if tag == BOOL:
                return True, value
            if tag == STR and (node.value in _OLD_TRUE or node.value in _OLD_FALSE):
                return True, node.value in _OLD_TRUE
        self.type_error(node, tag, kind)
        return False, self.schema.zero_value(kind)

    def sequence(self, node: yaml.SequenceNode, kind: Any) -> tuple[bool, Any]:
        if kind == "any":
            return True, [self.construct(item, "any")[1] for item in node.value]
        if not isinstance(kind, tuple):
            self.type_error(node, "seq", kind)
            return False, self.schema.zero_value(kind)
        items = []
        for item in node.value:
            good, value = self.construct(item, kind[1])
            if good:
                items.append(value)
        return True, items

    def mapping_pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value pairs with merge keys expanded; duplicate keys are errors as in go-yaml."""
        pairs, merges = [], []
        seen: dict[tuple[type, str], int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag == PLAIN_TAG and key.value == "<<":
                merges.append(value)
                continue
            if isinstance(key, yaml.ScalarNode):
                marker = (type(key), key.value)
                if marker in seen:
                    self.errors.append(
                        f'line {_line(key)}: mapping key "{key.value}" already defined at line {seen[marker]}'
                    )
                    continue
                seen[marker] = _line(key)
            pairs.append((key, value))
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise DecodeError(
                        f"yaml: line {_line(source)}: map merge requires map or sequence of maps as the value"
                    )
                for key, value in self.mapping_pairs(source):
                    marker = (type(key), getattr(key, "value", None))
                    if isinstance(key, yaml.ScalarNode) and marker not in seen:
                        seen[marker] = _line(key)
                        pairs.append((key, value))
        return pairs

    def key_text(self, key: yaml.Node) -> str | None:
        """A mapping key read into a Go string; None when go-yaml would skip or reject it."""
        if not isinstance(key, yaml.ScalarNode):
            self.type_error(key, self.node_tag(key), "str")
            return None
        good, text = self.scalar(key, "str")
        return text if good else None

    def mapping(self, node: yaml.MappingNode, kind: Any) -> tuple[bool, Any]:
        if kind == "any" or kind == "stringmap":
            result: dict[Any, Any] = {}
            string_keys = kind == "stringmap" or all(
                isinstance(key, yaml.ScalarNode) and self.scalar_tag(key)[0] in (STR, MERGE)
                for key, _unused in node.value
            )
            for key, value in self.mapping_pairs(node):
                if string_keys:
                    name: Any = self.key_text(key)
                    if name is None:
                        continue
                else:
                    if not isinstance(key, yaml.ScalarNode):
                        raise DecodeError(f"yaml: line {_line(key)}: invalid map key: a mapping or sequence")
                    name = GoKey(self.construct(key, "any")[1])
                good, decoded = self.construct(value, "any")
                if good:  # go-yaml leaves out entries whose value it could not build (a plain "<<")
                    result[name] = decoded
            return True, result
        if kind not in self.schema.structs:
            self.type_error(node, "map", kind)
            return False, self.schema.zero_value(kind)
        fields = {name: field_kind for name, field_kind, _unused in self.schema.structs[kind]}
        record = self.schema.zero_value(kind)
        for key, value in self.mapping_pairs(node):
            name = self.key_text(key)
            if name is None:
                continue
            if name not in fields:
                self.errors.append(f"line {_line(key)}: field {name} not found in type {kind}")
                continue
            good, decoded = self.construct(value, fields[name])
            if good:
                record[name] = decoded
        return True, record


def decode(body: str | bytes, schema: Schema, root: str) -> dict[str, Any]:
    """Decode the first YAML document of ``body`` into struct ``root`` of ``schema``; raises DecodeError."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:
        raise DecodeError(f"yaml: invalid UTF-8 in the body at byte {error.start}") from None
    try:
        loader = _NodeLoader(text)
        try:
            if not loader.check_node():
                raise DecodeError("EOF")
            document = loader.get_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        words = " ".join(part for part in (error.context, error.problem) if part)
        raise DecodeError(f"yaml: {where}{words}") from None
    except yaml.YAMLError as error:
        raise DecodeError("yaml: " + " ".join(str(error).split())) from None
    decoder = Decoder(schema)
    _unused, record = decoder.construct(document, root)
    if decoder.errors:
        raise DecodeError("yaml: construct errors: " + "; ".join(decoder.errors))
    return record
