"""Schematic parsing and canonical form, as the real Image Factory does it (the simulator's own implementation).

The factory decodes the POST body into a fixed Go record with go-yaml's known-fields check, then marshals the
record again; the ID is the SHA-256 of those bytes. This module decodes with the same leniencies and refusals
as go-yaml (a number is accepted where a string is expected, a quoted "10" is not accepted as a META key, ...)
and writes the record back with :mod:`goyaml_emit`. It deliberately imports nothing from the collection.
"""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

from . import goyaml_emit
from .goyaml_emit import Mapping, Scalar, Sequence
from .goyaml_scalars import BOOL, FLOAT, INT, MERGE, NULL, STR, GoKey, resolve

PLAIN_TAG = "tag:talosforge.sandbox,2026:plain"  # marks an untagged plain scalar, resolved later by our rules
_YAML_TAGS = {f"tag:yaml.org,2002:{name}": name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MAX_CONSTRUCTIONS = 100_000
_MAX_DEPTH = 200

# Field lists in declaration order: (yaml key, type, omitempty). Types: "str", "uint8", "uint", "bool",
# "bootloader", "options" (map[string]any), a struct name, or ("list", element type).
STRUCTS: dict[str, list[tuple[str, Any, bool]]] = {
    "schematic.Schematic": [
        ("owner", "str", True),
        ("overlay", "schematic.Overlay", True),
        ("customization", "schematic.Customization", False),
    ],
    "schematic.Overlay": [("image", "str", False), ("name", "str", False), ("options", "options", True)],
    "schematic.Customization": [
        ("embeddedMachineConfiguration", "str", True),
        ("extraKernelArgs", ("list", "str"), True),
        ("meta", ("list", "schematic.MetaValue"), True),
        ("systemExtensions", "schematic.SystemExtensions", True),
        ("bootloader", "bootloader", True),
        ("secureboot", "schematic.SecureBootCustomization", True),
        ("diskImage", "schematic.DiskImageCustomization", True),
    ],
    "schematic.MetaValue": [("key", "uint8", False), ("value", "str", False)],
    "schematic.SystemExtensions": [("officialExtensions", ("list", "str"), True)],
    "schematic.SecureBootCustomization": [("enrollKeys", "str", True), ("includeWellKnownCertificates", "bool", True)],
    "schematic.DiskImageCustomization": [("sectorSize", "uint", True)],
}
BOOTLOADERS = ("none", "dual-boot", "sd-boot", "grub")  # index 0 is Go's zero value, omitted when written
_GO_TYPE_NAMES = {
    "str": "string",
    "uint8": "uint8",
    "uint": "uint",
    "bool": "bool",
    "bootloader": "imageropts.BootloaderKind",
    "options": "map[string]interface {}",
}
_UINT_LIMITS = {"uint8": 2**8 - 1, "uint": 2**64 - 1}
_OLD_TRUE = frozenset("y Y yes Yes YES on On ON".split())
_OLD_FALSE = frozenset("n N no No NO off Off OFF".split())


class SchematicError(ValueError):
    """The body is not a valid schematic; the message is what the factory would answer with status 400."""


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


def _type_name(kind: Any) -> str:
    if isinstance(kind, tuple):
        return "[]" + _type_name(kind[1])
    return _GO_TYPE_NAMES.get(kind, kind)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Decoder:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.constructions = 0
        self.active: list[int] = []

    # scalar helpers
    @staticmethod
    def scalar_tag(node: yaml.ScalarNode) -> tuple[str, Any]:
        if any("\ud800" <= char <= "\udfff" for char in node.value):
            raise SchematicError(f"yaml: line {_line(node)}: found invalid Unicode character escape code")
        if node.tag == PLAIN_TAG:
            return resolve(node.value)
        tag = _YAML_TAGS.get(node.tag)
        if tag is None:
            raise SchematicError(f"yaml: unsupported tag {node.tag!r} at line {_line(node)}")
        if tag == STR:
            return STR, node.value
        resolved_tag, value = resolve(node.value)
        if resolved_tag == INT and tag == FLOAT:
            return FLOAT, float(value)
        if resolved_tag != tag:
            raise SchematicError(f"yaml: line {_line(node)}: cannot construct !!{resolved_tag} `{node.value}` as a !!{tag}")
        return tag, value

    @staticmethod
    def node_tag(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "map"
        if isinstance(node, yaml.SequenceNode):
            return "seq"
        return _Decoder.scalar_tag(node)[0]

    def type_error(self, node: yaml.Node, tag: str, kind: Any) -> None:
        value = ""
        if isinstance(node, yaml.ScalarNode):
            text = node.value
            value = " `" + (text[:7] + "..." if len(text) > 10 else text) + "`"
        self.errors.append(f"line {_line(node)}: cannot construct !!{tag}{value} into {_type_name(kind)}")

    # entry point
    def construct(self, node: yaml.Node, kind: Any) -> tuple[bool, Any]:
        self.constructions += 1
        if self.constructions > _MAX_CONSTRUCTIONS or len(self.active) > _MAX_DEPTH:
            raise SchematicError("yaml: document is too large or too deeply nested")
        if id(node) in self.active:
            raise SchematicError(f"yaml: line {_line(node)}: anchor value contains itself")
        self.active.append(id(node))
        try:
            return self._construct(node, kind)
        finally:
            self.active.pop()

    def _construct(self, node: yaml.Node, kind: Any) -> tuple[bool, Any]:
        if kind == "bootloader" and not isinstance(node, yaml.ScalarNode):
            tag = self.node_tag(node)
            self.errors.append(f"line {_line(node)}: cannot construct !!{tag} into {_type_name(kind)} (TextUnmarshaler)")
            return False, "none"
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, kind)
        if isinstance(node, yaml.SequenceNode):
            return self.sequence(node, kind)
        return self.mapping(node, kind)

    def scalar(self, node: yaml.ScalarNode, kind: Any) -> tuple[bool, Any]:
        tag, value = self.scalar_tag(node)
        if tag == NULL:
            return kind in ("any", "options") or isinstance(kind, tuple), zero_value(kind)
        if kind == "bootloader":
            name = node.value.lower()
            if node.value in BOOTLOADERS or name in BOOTLOADERS:
                return True, name
            self.errors.append(f"line {_line(node)}: {node.value} does not belong to BootloaderKind values")
            return False, "none"
        if tag == MERGE:  # a plain "<<" as a value: a string field takes it, anything else silently stays empty
            return (True, "<<") if kind == "str" else (False, zero_value(kind))
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
        return False, zero_value(kind)

    def sequence(self, node: yaml.SequenceNode, kind: Any) -> tuple[bool, Any]:
        if kind == "any":
            return True, [self.construct(item, "any")[1] for item in node.value]
        if not isinstance(kind, tuple):
            self.type_error(node, "seq", kind)
            return False, zero_value(kind)
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
                    self.errors.append(f'line {_line(key)}: mapping key "{key.value}" already defined at line {seen[marker]}')
                    continue
                seen[marker] = _line(key)
            pairs.append((key, value))
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise SchematicError(f"yaml: line {_line(source)}: map merge requires map or sequence of maps as the value")
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
        if kind == "any" or kind == "options":
            result: dict[Any, Any] = {}
            string_keys = kind == "options" or all(
                isinstance(key, yaml.ScalarNode) and self.scalar_tag(key)[0] in (STR, MERGE) for key, _ in node.value
            )
            for key, value in self.mapping_pairs(node):
                if string_keys:
                    name: Any = self.key_text(key)
                    if name is None:
                        continue
                else:
                    if not isinstance(key, yaml.ScalarNode):
                        raise SchematicError(f"yaml: line {_line(key)}: invalid map key: a mapping or sequence")
                    name = GoKey(self.construct(key, "any")[1])
                good, decoded = self.construct(value, "any")
                if good:  # go-yaml leaves out entries whose value it could not build (a plain "<<")
                    result[name] = decoded
            return True, result
        if kind not in STRUCTS:
            self.type_error(node, "map", kind)
            return False, zero_value(kind)
        fields = {name: field_kind for name, field_kind, _ in STRUCTS[kind]}
        record = zero_value(kind)
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


def zero_value(kind: Any) -> Any:
    if isinstance(kind, tuple):
        return []
    if kind in STRUCTS:
        return {name: zero_value(field_kind) for name, field_kind, _ in STRUCTS[kind]}
    return {"str": "", "uint8": 0, "uint": 0, "bool": False, "bootloader": "none", "options": {}, "any": None}[kind]


def _is_zero(value: Any, kind: Any) -> bool:
    if kind in STRUCTS:
        return all(_is_zero(value[name], field_kind) for name, field_kind, _ in STRUCTS[kind])
    if kind == "bootloader":
        return value == "none"
    return not value


def parse(body: str | bytes) -> dict[str, Any]:
    """Decode a POST /schematics body; raises SchematicError with the factory-style message."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:
        raise SchematicError(f"yaml: invalid UTF-8 in the body at byte {error.start}") from None
    try:
        loader = _NodeLoader(text)
        try:
            if not loader.check_node():
                raise SchematicError("EOF")
            root = loader.get_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        words = " ".join(part for part in (error.context, error.problem) if part)
        raise SchematicError(f"yaml: {where}{words}") from None
    except yaml.YAMLError as error:
        raise SchematicError("yaml: " + " ".join(str(error).split())) from None
    decoder = _Decoder()
    _, record = decoder.construct(root, "schematic.Schematic")
    if decoder.errors:
        raise SchematicError("yaml: construct errors: " + "; ".join(decoder.errors))
    return record


def _to_node(value: Any, kind: Any) -> Any:
    if kind in STRUCTS:
        items = []
        for name, field_kind, omitempty in STRUCTS[kind]:
            if omitempty and _is_zero(value[name], field_kind):
                continue
            items.append((Scalar(name), _to_node(value[name], field_kind)))
        return Mapping(items)
    if isinstance(kind, tuple):
        return Sequence([_to_node(item, kind[1]) for item in value])
    if kind == "options":
        return goyaml_emit.represent(value or {})
    return goyaml_emit.represent(value)


def canonical(record: dict[str, Any]) -> str:
    """The factory's normalized YAML for a decoded schematic."""
    return goyaml_emit._Emitter().document(_to_node(record, "schematic.Schematic"))


def schematic_id(canonical_text: str) -> str:
    return hashlib.sha256(canonical_text.encode("utf-8")).hexdigest()


def normalize(body: str | bytes) -> tuple[str, str]:
    """(id, canonical YAML) for a request body; raises SchematicError when the factory would answer 400."""
    text = canonical(parse(body))
    return schematic_id(text), text
