"""A block-style YAML writer that reproduces go-yaml's output byte for byte for the shapes a schematic has.

go.yaml.in/yaml/v4 ``Marshal`` uses v3 defaults: 4-space indentation, list items indented under their key,
unlimited line width, Unicode kept, legacy quoting. :mod:`.nodes` makes the first choice of style; this
emitter may demote it as go-yaml's does (a literal block with trailing spaces becomes double-quoted, ...) and
tracks the same column/indentation state to place every space and line break. Only what a schematic can contain
is covered: block mappings and sequences, empty ones in flow style, and scalars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .nodes import BEST_INDENT, BREAKS, DOUBLE, LITERAL, PLAIN, SINGLE, Mapping, Scalar, Sequence, represent


@dataclass
class _Analysis:
    multiline: bool
    block_plain_allowed: bool
    single_quoted_allowed: bool
    block_allowed: bool


def _printable(char: str) -> bool:
    code = ord(char)
    return (
        code == 0x0A or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


def _indicator(char: str, first: bool, followed_by_blank: bool, preceded_by_blank: bool) -> bool:
    """Whether ``char`` at this place makes the text read as YAML structure when written plain."""
    if first:
        return char in "#,[]{}&*!|>'\"%@`" or (char in "?:-" and followed_by_blank)
    return (char == ":" and followed_by_blank) or (char == "#" and preceded_by_blank)


def _analyze(value: str) -> _Analysis:
    """Which styles can carry this text (go-yaml's analyzeScalar, block context only)."""
    if not value:
        return _Analysis(False, True, True, False)
    block_indicators = value.startswith(("---", "..."))
    line_breaks = special = tabs = False
    leading_space = leading_break = trailing_space = trailing_break = break_space = space_break = False
    preceded_by_blank, previous_space, previous_break = True, False, False
    last = len(value) - 1
    for i, char in enumerate(value):
        followed_by_blank = i == last or value[i + 1] in " \t"
        block_indicators = block_indicators or _indicator(char, i == 0, followed_by_blank, preceded_by_blank)
        if char == "\t":
            tabs = True
        elif not _printable(char):
            special = True
        if char == " ":
            leading_space = leading_space or i == 0
            trailing_space = trailing_space or i == last
            break_space = break_space or previous_break
            previous_space, previous_break = True, False
        elif char in BREAKS:
            line_breaks = True
            leading_break = leading_break or i == 0
            trailing_break = trailing_break or i == last
            space_break = space_break or previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_blank = char in " \t\0" or char in BREAKS
    block_plain = not (leading_space or leading_break or trailing_space or trailing_break)
    single_ok = block_ok = True
    if trailing_space:
        block_ok = False
    if break_space or space_break or tabs or special:
        block_plain = single_ok = False
    if space_break or special:
        block_ok = False
    if line_breaks or block_indicators:
        block_plain = False
    return _Analysis(line_breaks, block_plain, single_ok, block_ok)


_ESCAPES = {
    0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r", 0x1B: "e",
    0x22: '"', 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P",
}  # fmt: skip


class Emitter:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.indent = -1
        self.whitespace = True
        self.indention = True

    # low-level writes, tracking the same state as go-yaml's emitter
    def _write(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def _put_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def _write_break(self, char: str) -> None:
        if char == "\n":
            self._put_break()
        else:
            self.out.append(char)
            self.column = 0
            self.indention = True

    def _write_indent(self) -> None:
        indent = max(self.indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self._put_break()
        if self.column < indent:
            self._write(" " * (indent - self.column))
        self.whitespace = True

    def _indicator(self, text: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) -> None:
        if need_whitespace and not self.whitespace:
            self._write(" ")
        self._write(text)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    def _increase(self, in_sequence_item: bool, flow: bool) -> int:
        previous = self.indent
        if previous < 0:
            self.indent = BEST_INDENT if flow else 0
        elif in_sequence_item:
            self.indent = previous + 2  # the first level inside "- " only skips the indicator
        else:
            self.indent = BEST_INDENT * ((previous + BEST_INDENT) // BEST_INDENT)
        return previous

    # nodes
    def node(self, node: Any, *, in_sequence_item: bool = False, simple_key: bool = False) -> None:
        if isinstance(node, Scalar):
            self._scalar(node, in_sequence_item, simple_key)
        elif isinstance(node, Mapping):
            self._mapping(node, in_sequence_item)
        elif isinstance(node, Sequence):
            self._sequence(node, in_sequence_item)
        else:
            raise TypeError(f"not a node: {node!r}")

    def _empty_flow(self, opening: str, closing: str) -> None:
        self._indicator(opening, True, True, False)
        self._indicator(closing, False, False, False)

    def _mapping(self, node: Mapping, in_sequence_item: bool) -> None:
        if not node.items:
            self._empty_flow("{", "}")
            return
        previous = self._increase(in_sequence_item, flow=False)
        for key, value in node.items:
            self._write_indent()
            if self._is_simple_key(key):
                self.node(key, simple_key=True)
                self._indicator(":", False, False, False)
            else:
                self._indicator("?", True, False, True)
                self.node(key)
                self._write_indent()
                self._indicator(":", True, False, True)
            self.node(value)
        self.indent = previous

    def _sequence(self, node: Sequence, in_sequence_item: bool) -> None:
        if not node.items:
            self._empty_flow("[", "]")
            return
        previous = self._increase(in_sequence_item, flow=False)
        for item in node.items:
            self._write_indent()
            self._indicator("-", True, False, True)
            self.node(item, in_sequence_item=True)
        self.indent = previous

    @staticmethod
    def _is_simple_key(key: Any) -> bool:
        if isinstance(key, Scalar):
            return not _analyze(key.value).multiline and len(key.value.encode()) <= 128
        return isinstance(key, (Mapping, Sequence)) and not key.items

    def _scalar(self, node: Scalar, in_sequence_item: bool, simple_key: bool) -> None:
        style = self._select_style(node, simple_key)
        previous = self._increase(in_sequence_item, flow=True)
        if style == PLAIN:
            self._plain(node.value)
        elif style == SINGLE:
            self._single_quoted(node.value)
        elif style == DOUBLE:
            self._double_quoted(node.value)
        else:
            self._literal(node.value)
        self.indent = previous

    @staticmethod
    def _select_style(node: Scalar, simple_key: bool) -> str:
        analysis = _analyze(node.value)
        style = node.style
        if simple_key and analysis.multiline:
            style = DOUBLE
        if style == PLAIN and (not analysis.block_plain_allowed or (not node.value and simple_key)):
            style = SINGLE
        if style == SINGLE and not analysis.single_quoted_allowed:
            style = DOUBLE
        if style == LITERAL and (not analysis.block_allowed or simple_key):
            style = DOUBLE
        return style

    def _plain(self, value: str) -> None:
        if value and not self.whitespace:
            self._write(" ")
        self._write(value)
        if value:
            self.whitespace = False
        self.indention = False

    def _single_quoted(self, value: str) -> None:
        self._indicator("'", True, False, False)
        in_breaks = False
        for char in value:
            if char in BREAKS:
                if not in_breaks and char == "\n":
                    self._put_break()
                self._write_break(char)
                in_breaks = True
                continue
            if in_breaks:
                self._write_indent()
            self._write("''" if char == "'" else char)
            self.indention = False
            in_breaks = False
        self._indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def _double_quoted(self, value: str) -> None:
        self._indicator('"', True, False, False)
        # go-yaml's BOM test looks at the first bytes of the whole value, so a leading BOM escapes every character
        escape_all = value.startswith("\ufeff")
        for char in value:
            code = ord(char)
            if escape_all or not _printable(char) or char in BREAKS or char in '"\\':
                if code in _ESCAPES:
                    self._write("\\" + _ESCAPES[code])
                elif code <= 0xFF:
                    self._write(f"\\x{code:02X}")
                elif code <= 0xFFFF:
                    self._write(f"\\u{code:04X}")
                else:
                    self._write(f"\\U{code:08X}")
            else:
                self._write(char)
        self._indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False

    def _literal(self, value: str) -> None:
        self._indicator("|", True, False, False)
        if value[:1] == " ":
            self._indicator(str(BEST_INDENT), False, False, False)
        if value[-1] not in BREAKS:
            self._indicator("-", False, False, False)
        elif len(value) == 1 or value[-2] in BREAKS:
            self._indicator("+", False, False, False)
        self._put_break()
        self.whitespace = True
        in_breaks = True
        for char in value:
            if char in BREAKS:
                self._write_break(char)
                in_breaks = True
                continue
            if in_breaks:
                self._write_indent()
            self._write(char)
            self.indention = False
            in_breaks = False

    def document(self, root: Any) -> str:
        self.node(root)
        self._write_indent()  # the implicit document end closes the last line
        return "".join(self.out)


def dump(value: Any) -> str:
    """go-yaml ``Marshal`` output for a value (a node tree or plain Python data)."""
    return Emitter().document(represent(value))
