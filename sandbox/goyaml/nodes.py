"""YAML node trees and go-yaml's representer: the first choice of style for each Go value."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .keys import GoKey, sorted_pairs
from .scalars import STR, GoTime, format_go_float, is_base60_float, is_old_bool, resolve

PLAIN, SINGLE, DOUBLE, LITERAL = "plain", "single", "double", "literal"
BEST_INDENT = 4
BREAKS = "\r\n\x85\u2028\u2029"
# unicode.IsSpace in Go: ASCII white space, NEL, NBSP and the Unicode White_Space characters.
_GO_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
)


@dataclass
class Scalar:
    value: str
    style: str = PLAIN


@dataclass
class Mapping:
    items: list[tuple[Any, Any]] = field(default_factory=list)


@dataclass
class Sequence:
    items: list[Any] = field(default_factory=list)


# representer + desolver --------------------------------------------------------------------------------------


def represent_string(text: str) -> Scalar:
    """The style go-yaml chooses for a Go string before the emitter has its say."""
    if "\n" in text:
        wants_literal = len(text) >= 2 and any(ch not in _GO_SPACES for ch in text)
        return Scalar(text, LITERAL if wants_literal else DOUBLE)
    if is_base60_float(text) or is_old_bool(text) or text == "<<":
        return Scalar(text, SINGLE)
    if resolve(text)[0] != STR:
        return Scalar(text, DOUBLE)  # "true", "10", "" would read back as bool, int, null
    return Scalar(text, PLAIN)


def represent(value: Any) -> Any:
    """A node tree for a decoded value (str, bool, int, float, None, GoTime, dict, list)."""
    if isinstance(value, (Scalar, Mapping, Sequence)):
        return value
    if value is None:
        return Scalar("null")
    if isinstance(value, bool):
        return Scalar("true" if value else "false")
    if isinstance(value, int):
        return Scalar(str(int(value)))
    if isinstance(value, float):
        return Scalar(format_go_float(value))
    if isinstance(value, str):
        return represent_string(value)
    if isinstance(value, GoTime):
        return Scalar(value.rfc3339nano())
    if isinstance(value, dict):
        pairs = [(key.value if isinstance(key, GoKey) else key, item) for key, item in value.items()]
        items = []
        for key, item in sorted_pairs(pairs):
            if isinstance(key, float) and math.isnan(key):
                item = None  # Go cannot look a NaN key up again, so its value comes out as null
            items.append((represent(key), represent(item)))
        return Mapping(items)
    if isinstance(value, list):
        return Sequence([represent(item) for item in value])
    raise TypeError(f"cannot represent {type(value).__name__}")
