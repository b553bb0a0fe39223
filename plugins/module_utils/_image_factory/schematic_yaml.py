# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Writing a schematic record the way go-yaml's default marshaller does, and as a JSON request body.

The block layout follows go-yaml v3's observable output (4-space indentation, sequences indented under their
key); each scalar is written by the rules of _image_factory/yaml_scalars.py. Only what a schematic can hold is
covered. Only the standard library is used (no Ansible import).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.yaml_scalars import (
    BREAKS,
    go_float,
    printable,
    string_style,
)

_INDENT = 4
_ESCAPES = {
    "\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r", "\x1b": "e",
    '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P",
}  # fmt: skip


def emit_record(record: Mapping[str, Any]) -> str:
    """Write an already normalised record as canonical YAML (block style; always ends with one newline)."""
    lines: list[str] = []
    _Emitter(lines).mapping(record, 0)
    return "\n".join(lines) + "\n"


def _double_quoted(text: str) -> str:
    # go-yaml escapes every character of a string that starts with a byte order mark.
    escape_all = text.startswith("\ufeff")
    out = ['"']
    for char in text:
        if not escape_all and printable(char) and char not in BREAKS and char not in '"\\':
            out.append(char)
        elif char in _ESCAPES:
            out.append("\\" + _ESCAPES[char])
        else:
            code = ord(char)
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    out.append('"')
    return "".join(out)


def _literal_header(text: str) -> str:
    header = "|"
    if text.startswith(" "):
        header += str(_INDENT)
    if not text.endswith("\n"):
        header += "-"
    elif len(text) >= 2 and text[-2] in BREAKS:
        header += "+"
    return header


# --------------------------------------------------------------------------------------------------------------
# The emitter: block style, 4-space indentation, sequences indented under their key
# --------------------------------------------------------------------------------------------------------------


def _next_indent(indent: int) -> int:
    """Indentation of a block nested under a mapping key: the next multiple of 4."""
    return _INDENT * ((indent + _INDENT) // _INDENT)


class _Emitter:
    """Appends output lines. Mappings keep their insertion order (the record is already ordered)."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def scalar(self, value: Any, key: bool = False) -> tuple[str, str | None]:
        """Return (inline text, literal body) for a scalar; the body is set for literal blocks."""
        if value is None:
            return "null", None
        if value is True or value is False:
            return ("true" if value else "false"), None
        if isinstance(value, int):
            return str(value), None
        if isinstance(value, float):
            return go_float(value), None
        style = string_style(value, key)
        if style == "plain":
            return value, None
        if style == "single":
            return "'" + value.replace("'", "''") + "'", None
        if style == "double":
            return _double_quoted(value), None
        return _literal_header(value), value

    def literal_body(self, body: str, indent: int) -> None:
        lines = body.split("\n")
        if body.endswith("\n"):
            lines.pop()
        self.lines.extend((" " * indent + line) if line else "" for line in lines)

    def node_after(self, prefix: str, value: Any, child_indent: int, in_sequence: bool) -> None:
        """Write ``prefix`` (a key with ':' or a '- ' marker) followed by ``value``."""
        if isinstance(value, Mapping) and value:
            if in_sequence:
                self.inline_first(prefix, lambda: self.mapping(value, child_indent))
            else:
                self.lines.append(prefix)
                self.mapping(value, child_indent)
        elif isinstance(value, (list, tuple)) and value:
            if in_sequence:
                self.inline_first(prefix, lambda: self.sequence(value, child_indent))
            else:
                self.lines.append(prefix)
                self.sequence(value, child_indent)
        elif isinstance(value, Mapping):
            self.lines.append(prefix + " {}")
        elif isinstance(value, (list, tuple)):
            self.lines.append(prefix + " []")
        else:
            text, body = self.scalar(value)
            self.lines.append(prefix + " " + text)
            if body is not None:
                self.literal_body(body, child_indent)

    def inline_first(self, prefix: str, write: Any) -> None:
        """Write a nested block whose first line continues the '- ' marker line."""
        start = len(self.lines)
        write()
        self.lines[start] = prefix + " " + self.lines[start][len(prefix) + 1 :]

    def mapping(self, mapping: Mapping[str, Any], indent: int) -> None:
        for key, value in mapping.items():
            text = self.scalar(key, key=True)[0]
            self.node_after(" " * indent + text + ":", value, _next_indent(indent), False)

    def sequence(self, items: Sequence[Any], indent: int) -> None:
        for item in items:
            self.node_after(" " * indent + "-", item, indent + 2, True)


# --------------------------------------------------------------------------------------------------------------
# Request body (JSON notation, which YAML reads)
# --------------------------------------------------------------------------------------------------------------

_YAML_UNREADABLE = re.compile("[\x7f-\x9f\ufeff\ufffe\uffff]")


def _json_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return _YAML_UNREADABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", encoded)


def flow(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_json_string(k)}: {flow(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(flow(item) for item in value) + "]"
