"""Map keys as go-yaml handles them: Go's key identity (1, 1.0 and true differ) and its natural sort order."""

from __future__ import annotations

import functools
import math
import unicodedata
from typing import Any

from .scalars import GoUint


class GoKey:
    """A key of a Go map[any]any: equal only to a key of the same Go type and value (so 1, 1.0 and true differ)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def _identity(self) -> tuple[int, Any]:
        if isinstance(self.value, float) and math.isnan(self.value):
            return _KIND_FLOAT64, id(self)  # NaN never equals another key
        return _kind(self.value), self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoKey) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


# go-yaml's keyList.Less---------------------------------------------------------------------

_KIND_BOOL, _KIND_INT, _KIND_UINT64, _KIND_FLOAT64, _KIND_INTERFACE, _KIND_STRING, _KIND_STRUCT = (
    1,
    2,
    11,
    14,
    20,
    24,
    25,
)


def _kind(value: Any) -> int:
    if isinstance(value, bool):
        return _KIND_BOOL
    if isinstance(value, GoUint):
        return _KIND_UINT64
    if isinstance(value, int):
        return _KIND_INT
    if isinstance(value, float):
        return _KIND_FLOAT64
    if isinstance(value, str):
        return _KIND_STRING
    if value is None:
        return _KIND_INTERFACE
    return _KIND_STRUCT


def _wrap_int64(number: int) -> int:
    return (number + 2**63) % 2**64 - 2**63


def _is_digit(char: str) -> bool:
    return unicodedata.category(char) == "Nd"


def _string_less(a: str, b: str) -> bool:
    digits = False
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            digits = _is_digit(ca)
            continue
        a_letter, b_letter = ca.isalpha(), cb.isalpha()
        if a_letter and b_letter:
            return ca < cb
        if a_letter or b_letter:
            return a_letter if digits else b_letter
        a_num = b_num = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and _is_digit(a[j]):
                if a[j] != "0":
                    a_num = b_num = 1
                    break
                j -= 1
        a_end = i
        while a_end < len(a) and _is_digit(a[a_end]):
            a_num = _wrap_int64(a_num * 10 + ord(a[a_end]) - 48)
            a_end += 1
        b_end = i
        while b_end < len(b) and _is_digit(b[b_end]):
            b_num = _wrap_int64(b_num * 10 + ord(b[b_end]) - 48)
            b_end += 1
        if a_num != b_num:
            return a_num < b_num
        if a_end != b_end:
            return a_end < b_end
        return ca < cb
    return len(a) < len(b)


def key_less(a: Any, b: Any) -> bool:
    """Natural order: numbers by value, strings with embedded numbers compared as numbers, else by Go kind."""
    kind_a, kind_b = _kind(a), _kind(b)
    numeric = (_KIND_BOOL, _KIND_INT, _KIND_UINT64, _KIND_FLOAT64)
    if kind_a in numeric and kind_b in numeric:
        fa, fb = float(a), float(b)
        if fa != fb:
            return fa < fb
        if kind_a != kind_b:
            return kind_a < kind_b
        return a < b
    if kind_a != _KIND_STRING or kind_b != _KIND_STRING:
        return kind_a < kind_b
    return _string_less(a, b)


def sorted_pairs(pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(key, value) pairs in go-yaml's key order."""

    def compare(a: tuple[Any, Any], b: tuple[Any, Any]) -> int:
        return -1 if key_less(a[0], b[0]) else (1 if key_less(b[0], a[0]) else 0)

    return sorted(pairs, key=functools.cmp_to_key(compare))
