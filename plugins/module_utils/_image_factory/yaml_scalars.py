# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""go-yaml v3's rules for scalars, as far as a schematic needs them.

Which plain scalars read back as another type (and so must be quoted), which quoting style a string gets, how
floats are printed, and the "natural" order go-yaml sorts map keys in. Only the standard library is used (no
Ansible import). The emitter that applies them is in _image_factory/schematic_yaml.py.
"""

from __future__ import annotations

import math
import re
from functools import cmp_to_key

# --------------------------------------------------------------------------------------------------------------
# go-yaml scalar rules: which type a plain scalar reads back as
# --------------------------------------------------------------------------------------------------------------

_GO_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?")
_DATE = r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
_CLOCK = r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?"
_TIMESTAMPS = (
    re.compile(_DATE),
    re.compile(_DATE + r" +" + _CLOCK),
    re.compile(_DATE + r"[Tt]" + _CLOCK + r"(?:Z|[+-]([0-9]{2}):([0-9]{2}))"),
)
_RESERVED_WORDS = frozenset(
    "true True TRUE false False FALSE ~ null Null NULL .nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF "
    "-.inf -.Inf -.INF -0 -0.0 <<".split()
)
_YAML11_BOOLS = frozenset("y Y yes Yes YES on On ON n N no No NO off Off OFF".split())
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_MAP_HINTS = frozenset("yYnNtTfFoO~<")


def go_parse_int(text: str) -> int | None:
    """Integer in Go's base-0 notation (0x, 0o, 0b, leading-0 octal), within int64 or uint64; else None."""
    match = _GO_INT.fullmatch(text)
    if not match:
        return None
    sign, digits = match.groups()
    if digits[:2].lower() in ("0x", "0o", "0b"):
        number = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
    elif len(digits) > 1 and digits[0] == "0":
        number = int(digits, 8)
    else:
        number = int(digits)
    if sign == "-":
        number = -number
    if -(2**63) <= number <= 2**63 - 1 or (not sign and number <= 2**64 - 1):
        return number
    return None


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _is_timestamp(text: str) -> bool:
    for pattern in _TIMESTAMPS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        parts = [int(p) if p is not None else 0 for p in match.groups()]
        year, month, day = parts[:3]
        if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
            return False
        if len(parts) >= 6:
            hour, minute, second = parts[3:6]
            if hour > 23 or minute > 59 or second > 59:
                return False
        if len(parts) == 8 and (parts[6] > 24 or parts[7] > 60):
            return False
        return True
    return False


def _finite_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def reads_as_non_string(text: str) -> bool:
    """True when the plain scalar would read back as null, bool, int, float, timestamp or merge key."""
    if text == "" or text in _RESERVED_WORDS:
        return True
    first = text[0]
    if first == ".":
        return bool(_DOT_FLOAT.fullmatch(text)) and _finite_float(text)
    if first in _MAP_HINTS or not (first.isascii() and (first.isdigit() or first in "+-")):
        return False
    if _is_timestamp(text):
        return True
    plain = text.replace("_", "")
    if go_parse_int(plain) is not None:
        return True
    return bool(_YAML_FLOAT.fullmatch(plain)) and _finite_float(plain)


# --------------------------------------------------------------------------------------------------------------
# go-yaml scalar rules: how a string is written
# --------------------------------------------------------------------------------------------------------------

BREAKS = "\r\n\x85\u2028\u2029"
_FIRST_CHAR_INDICATORS = "#,[]{}&*!|>'\"%@`"
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)


def printable(char: str) -> bool:
    code = ord(char)
    return (
        code == 0x0A or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


def _style_limits(text: str) -> tuple[bool, bool, bool]:
    """Which styles the text allows in block context: (plain, single-quoted, literal block)."""
    if not text:
        return True, True, False
    block_indicator = text.startswith("---") or text.startswith("...")
    special = tabs = leading_space = trailing_space = breaks = space_break = break_space = False
    for index, char in enumerate(text):
        followed_by_blank = index + 1 >= len(text) or text[index + 1] in " \t"
        preceded_by_blank = index == 0 or text[index - 1] in " \t\0" + BREAKS
        if index == 0:
            if char in _FIRST_CHAR_INDICATORS or (char in "?:-" and followed_by_blank):
                block_indicator = True
        elif (char == ":" and followed_by_blank) or (char == "#" and preceded_by_blank):
            block_indicator = True
        if char == "\t":
            tabs = True
        elif not printable(char):
            special = True
        if char == " ":
            leading_space = leading_space or index == 0
            trailing_space = index == len(text) - 1
            break_space = break_space or (index > 0 and text[index - 1] in BREAKS)
        elif char in BREAKS:
            breaks = True
            space_break = space_break or (index > 0 and text[index - 1] == " ")
    edge = leading_space or trailing_space or text[0] in BREAKS or text[-1] in BREAKS
    plain = not (edge or break_space or space_break or tabs or special or breaks or block_indicator)
    single = not (break_space or space_break or tabs or special)
    literal = not (trailing_space or space_break or special)
    return plain, single, literal


def string_style(text: str, key: bool = False) -> str:
    """Pick the style go-yaml writes a string in: plain, single, double or literal."""
    if "\n" in text:
        wanted = "literal" if len(text.encode("utf-8")) >= 2 and any(c not in _GO_SPACES for c in text) else "double"
    elif text in _YAML11_BOOLS or text == "<<" or (text[:1] in "+-0123456789" and _BASE60.fullmatch(text)):
        wanted = "single"
    elif reads_as_non_string(text):
        wanted = "double"
    else:
        wanted = "plain"
    plain_ok, single_ok, literal_ok = _style_limits(text)
    if wanted == "plain" and not plain_ok:
        wanted = "single"
    if wanted == "single" and not single_ok:
        wanted = "double"
    if wanted == "literal" and (key or not literal_ok):
        wanted = "double"
    return wanted


def go_float(value: float) -> str:
    """A float as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it, with YAML's names for inf and nan."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    mantissa, _sep, exponent = repr(abs(value)).partition("e")
    whole, _point, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    power = point - 1
    if power < -4 or power >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def natural_less(a: str, b: str) -> bool:
    """go-yaml's map key order for strings: runs of digits compare as numbers, letters before other runes."""
    digits = False
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            digits = a[i].isdecimal()
            continue
        a_letter, b_letter = a[i].isalpha(), b[i].isalpha()
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return a_letter if digits else b_letter
        a_num = b_num = 0
        if a[i] == "0" or b[i] == "0":
            for j in range(i - 1, -1, -1):
                if not a[j].isdecimal():
                    break
                if a[j] != "0":
                    a_num = b_num = 1
                    break
        a_end, a_num = _digit_run(a, i, a_num)
        b_end, b_num = _digit_run(b, i, b_num)
        if a_num != b_num:
            return a_num < b_num
        if a_end != b_end:
            return a_end < b_end
        return a[i] < b[i]
    return len(a) < len(b)


def _digit_run(text: str, start: int, number: int) -> tuple[int, int]:
    end = start
    while end < len(text) and text[end].isdecimal():
        number = ((number * 10 + ord(text[end]) - 48 + 2**63) % 2**64) - 2**63  # int64 arithmetic, as in Go
        end += 1
    return end, number


def _natural_cmp(left: str, right: str) -> int:
    if natural_less(left, right):
        return -1
    return 1 if natural_less(right, left) else 0


NATURAL_KEY = cmp_to_key(_natural_cmp)
