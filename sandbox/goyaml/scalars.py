"""Scalar rules of the YAML library the real Image Factory uses (go.yaml.in/yaml/v4 with v3 defaults).

Written for the simulator from a reading of that library's resolver and representer; nothing here is imported
from the collection. It answers two questions: what type does a plain scalar resolve to, and how is a Go float
or time printed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

STR = "str"
INT = "int"
FLOAT = "float"
BOOL = "bool"
NULL = "null"
TIMESTAMP = "timestamp"
MERGE = "merge"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


class GoUint(int):
    """An integer above int64 range, which Go decodes as uint64 (it sorts and prints as such)."""


@dataclass(frozen=True)
class GoTime:
    """A timestamp as go-yaml decodes it into an interface value (time.Time)."""

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanos: int = 0
    offset_minutes: int = 0

    def rfc3339nano(self) -> str:
        text = f"{self.year:04d}-{self.month:02d}-{self.day:02d}T{self.hour:02d}:{self.minute:02d}:{self.second:02d}"
        if self.nanos:
            text += "." + f"{self.nanos:09d}".rstrip("0")
        if self.offset_minutes == 0:
            return text + "Z"
        sign = "+" if self.offset_minutes > 0 else "-"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        return f"{text}{sign}{hours:02d}:{minutes:02d}"


_FIXED: dict[str, tuple[str, Any]] = {}
for _words, _tag, _value in (
    (("true", "True", "TRUE"), BOOL, True),
    (("false", "False", "FALSE"), BOOL, False),
    (("", "~", "null", "Null", "NULL"), NULL, None),
    ((".nan", ".NaN", ".NAN"), FLOAT, math.nan),
    ((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), FLOAT, math.inf),
    (("-.inf", "-.Inf", "-.INF"), FLOAT, -math.inf),
    (("-0", "-0.0"), FLOAT, -0.0),
    (("<<",), MERGE, "<<"),
):
    for _word in _words:
        _FIXED[_word] = (_tag, _value)

_HINTS = {"+": "S", "-": "S", ".": "."}
_HINTS.update({c: "D" for c in "0123456789"})
_HINTS.update({c: "M" for c in "yYnNtTfFoO~<"})

_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_OLD_BOOLS = frozenset("y Y yes Yes YES on On ON n N no No NO off Off OFF".split())


def resolve(text: str) -> tuple[str, Any]:
    """The tag and value a plain (unquoted) scalar resolves to."""
    hint = "N" if text == "" else _HINTS.get(text[0])
    if hint is None:
        return STR, text
    if text in _FIXED:
        return _FIXED[text]
    if hint == "." and _DOT_FLOAT.fullmatch(text):
        return FLOAT, float(text)
    if hint in ("D", "S"):
        stamp = parse_timestamp(text)
        if stamp is not None:
            return TIMESTAMP, stamp
        plain = text.replace("_", "")
        number = _parse_go_int(plain, signed=True)
        if number is not None and _INT64_MIN <= number <= _INT64_MAX:
            return INT, number
        number = _parse_go_int(plain, signed=False)
        if number is not None and number <= _UINT64_MAX:
            return INT, GoUint(number)
        if _YAML_FLOAT.fullmatch(plain):
            value = float(plain)
            if not math.isinf(value):
                return FLOAT, value
    return STR, text


def _parse_go_int(text: str, *, signed: bool) -> int | None:
    """strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b and leading-0 octal prefixes)."""
    sign = 1
    if signed and text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not _GO_INT.fullmatch(text):
        return None
    prefix = text[:2].lower()
    if prefix == "0x":
        return sign * int(text[2:], 16)
    if prefix == "0o":
        return sign * int(text[2:], 8)
    if prefix == "0b":
        return sign * int(text[2:], 2)
    if len(text) > 1 and text[0] == "0":
        return sign * int(text[1:], 8)
    return sign * int(text)


def is_old_bool(text: str) -> bool:
    """YAML 1.1 booleans (yes, off, ...) that go-yaml quotes so old parsers read them as strings."""
    return text in _OLD_BOOLS


def is_base60_float(text: str) -> bool:
    if not text or not (text[0] in "+-" or text[0].isdigit()) or ":" not in text:
        return False
    return _BASE60_FLOAT.fullmatch(text) is not None


_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_CLOCK = r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?"
_STAMP_FORMS = (
    re.compile(_DATE + r"[Tt]" + _CLOCK + r"(Z|[+-]\d{2}:\d{2})"),
    re.compile(_DATE + " " + _CLOCK),
    re.compile(_DATE),
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_timestamp(text: str) -> GoTime | None:
    """The four timestamp layouts go-yaml tries, with Go's range checks."""
    if len(text) < 5 or not text[:4].isdigit() or text[4] != "-":
        return None
    for form in _STAMP_FORMS:
        match = form.fullmatch(text)
        if match:
            return _build_time(match.groups())
    return None


def _build_time(groups: tuple[str | None, ...]) -> GoTime | None:
    year, month, day = int(groups[0] or 0), int(groups[1] or 0), int(groups[2] or 0)
    if not 1 <= month <= 12:
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (1 if month == 2 and leap else 0):
        return None
    if len(groups) == 3:
        return GoTime(year, month, day)
    hour, minute, second = int(groups[3] or 0), int(groups[4] or 0), int(groups[5] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    nanos = int(((groups[6] or "") + "000000000")[:9])
    offset = 0
    zone = groups[7] if len(groups) > 7 else None
    if zone and zone != "Z":
        offset = int(zone[1:3]) * 60 + int(zone[4:6])
        offset = -offset if zone[0] == "-" else offset
    return GoTime(year, month, day, hour, minute, second, nanos, offset)


def format_go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64) plus go-yaml's spelling of infinities and NaN."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    _unused, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = list(digit_tuple)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1  # type: ignore[operator]
    text = "".join(str(d) for d in digits)
    point = len(digits) + int(exponent)  # position of the decimal point
    sign = "-" if value < 0 else ""
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:  # shortest 'g' switches to %e at 1e6 and below 1e-4
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{text}"
    if point >= len(text):
        return sign + text + "0" * (point - len(text))
    return f"{sign}{text[:point]}.{text[point:]}"
