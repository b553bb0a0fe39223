# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Image Factory schematics: normalise what a user wrote, write the factory's canonical YAML, compute the ID.

The factory decodes a schematic strictly into a fixed record, writes it back out with go-yaml's default
marshaller (4-space indentation, declaration order, omitempty) and names it by the SHA-256 of those bytes.
This module reproduces those bytes without Go: the record is small and fixed, so a purpose-built emitter
(below) that follows go-yaml's observable output rules is enough. See tests/contracts/image-factory/README.md.

Only the standard library is used here (no Ansible import), so the logic is unit-tested on its own.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections.abc import Mapping
from functools import cmp_to_key
from typing import Any

EMPTY_SCHEMATIC_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"

# Field names of the factory's record, in declaration order (the order they are written in).
TOP_FIELDS = ("owner", "overlay", "customization")
OVERLAY_FIELDS = ("image", "name", "options")
CUSTOMIZATION_FIELDS = (
    "embeddedMachineConfiguration",
    "extraKernelArgs",
    "meta",
    "systemExtensions",
    "bootloader",
    "secureboot",
    "diskImage",
)
META_FIELDS = ("key", "value")
SYSTEM_EXTENSIONS_FIELDS = ("officialExtensions",)
SECUREBOOT_FIELDS = ("enrollKeys", "includeWellKnownCertificates")
DISK_IMAGE_FIELDS = ("sectorSize",)

# bootloader: "auto" (the documented default) and "none" (its name in older Talos machinery) are the zero value,
# which omitempty drops. The others are written in lower case, as the factory's enum marshals them.
BOOTLOADER_ZERO = ("auto", "none")
BOOTLOADERS = ("dual-boot", "sd-boot", "grub")
ENROLL_KEYS = ("off", "manual", "if-safe", "force")

_MAX_OPTIONS_DEPTH = 32
_MAX_SIMPLE_KEY_BYTES = 128
_INDENT = 4


class SchematicError(ValueError):
    """The schematic is invalid. ``errors`` lists every problem, each starting with its field path."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid Image Factory schematic: " + "; ".join(self.errors))


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------


def normalize_schematic(schematic: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a schematic as a user writes it and return the factory's record with empty fields dropped.

    Keys come back in declaration order, META keys as ints, ``customization`` always present, overlay options
    sorted the way the factory sorts map keys. Raises SchematicError listing every problem with its path.
    """
    errors: list[str] = []
    record = _Normalizer(errors).top(schematic)
    if errors:
        raise SchematicError(errors)
    return record


def canonical_yaml(schematic: Mapping[str, Any] | None) -> str:
    """Return the canonical YAML text the factory hashes (always ends with one newline)."""
    return emit_record(normalize_schematic(schematic))


def schematic_id(schematic: Mapping[str, Any] | None) -> str:
    """Return the schematic ID: lowercase hex SHA-256 of the canonical YAML."""
    return canonicalize(schematic)[0]


def canonicalize(schematic: Mapping[str, Any] | None) -> tuple[str, str]:
    """Return ``(id, canonical_yaml)`` for a schematic as a user writes it."""
    text = canonical_yaml(schematic)
    return id_of_canonical(text), text


def id_of_canonical(canonical: str) -> str:
    """SHA-256 (hex) of canonical YAML text."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def request_body(schematic: Mapping[str, Any] | None) -> str:
    """Return the body to POST to /schematics: the normalised record in JSON (flow YAML) notation.

    JSON keeps every string exactly (no block-scalar indentation to re-read), so the factory decodes the very
    values that were hashed locally. Characters a YAML reader refuses raw are written as escapes.
    """
    return _flow(normalize_schematic(schematic)) + "\n"


def emit_record(record: Mapping[str, Any]) -> str:
    """Write an already normalised record (see normalize_schematic) as canonical YAML."""
    lines: list[str] = []
    _Emitter(lines).mapping(record, 0)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Normalisation (strict, with field paths)
# --------------------------------------------------------------------------------------------------------------


def _snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _unknown_key_message(path: str, key: Any, allowed: tuple[str, ...]) -> str:
    where = f"{path}.{key}" if path else str(key)
    text = f"{where}: unknown field"
    if isinstance(key, str):
        camel = _snake_to_camel(key)
        guesses = [camel] if camel in allowed else difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if guesses:
            text += f" (did you mean {guesses[0]!r}?)"
    return text + f"; allowed fields: {', '.join(allowed)}"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value is False or value == 0 or value == [] or value == {}


class _Normalizer:
    """Walks the user's schematic, collects errors, and builds the record."""

    def __init__(self, errors: list[str]):
        self.errors = errors

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        """Return the mapping (or {} for None) after checking its keys; {} and an error for other types."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path or "schematic", f"must be a mapping, got {_type_name(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.errors.append(_unknown_key_message(path, key, allowed))
        return {k: v for k, v in value.items() if k in allowed}

    def string(self, value: Any, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {_type_name(value)}; quote the value in YAML")
            return ""
        problem = _string_problem(value)
        if problem:
            self.fail(path, problem)
            return ""
        return value

    def string_list(self, value: Any, path: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            self.fail(path, f"must be a list of strings, got {_type_name(value)}")
            return []
        result = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if item is None or item == "":
                self.fail(item_path, "must be a non-empty string")
                continue
            text = self.string(item, item_path)
            if text:
                result.append(text)
        return result

    def unsigned(self, value: Any, path: str, maximum: int) -> int:
        """An unsigned integer: an int, or a string in Go/YAML integer notation (10, 0xa, 0o12, 0b1010)."""
        if value is None:
            return 0
        if isinstance(value, bool):
            self.fail(path, f"must be an integer, got {_type_name(value)}")
            return 0
        number: int | None
        if isinstance(value, int):
            number = value
        elif isinstance(value, str):
            number = _go_parse_int(value.strip().replace("_", ""))
            if number is None:
                self.fail(path, f"{value!r} is not an integer; write it as decimal (10) or hex (0xa)")
                return 0
        else:
            self.fail(path, f"must be an integer, got {_type_name(value)}")
            return 0
        if not 0 <= number <= maximum:
            self.fail(path, f"{number} is out of range; it must be between 0 and {maximum}")
            return 0
        return number

    def boolean(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(path, f"must be a boolean (true or false), got {_type_name(value)}")
        return False

    def choice(self, value: Any, path: str, choices: tuple[str, ...], zero: tuple[str, ...] = ()) -> str:
        text = self.string(value, path)
        if not text:
            return ""
        lowered = text.lower() if zero else text
        if lowered in zero:
            return ""
        if lowered not in choices:
            self.fail(path, f"{text!r} is not one of {', '.join(zero + choices)}")
            return ""
        return lowered

    # -- the record ------------------------------------------------------------------------------------------

    def top(self, schematic: Any) -> dict[str, Any]:
        data = self.mapping(schematic, "", TOP_FIELDS)
        record: dict[str, Any] = {}
        owner = self.string(data.get("owner"), "owner")
        if owner:
            record["owner"] = owner
        overlay = self.overlay(data.get("overlay"))
        if overlay:
            record["overlay"] = overlay
        record["customization"] = self.customization(data.get("customization"))
        return record

    def overlay(self, value: Any) -> dict[str, Any]:
        data = self.mapping(value, "overlay", OVERLAY_FIELDS)
        image = self.string(data.get("image"), "overlay.image")
        name = self.string(data.get("name"), "overlay.name")
        options: dict[str, Any] = {}
        raw_options = data.get("options")
        if raw_options is not None:
            if isinstance(raw_options, Mapping):
                options = self.options_map(raw_options, "overlay.options", 1)
            else:
                self.fail("overlay.options", f"must be a mapping, got {_type_name(raw_options)}")
        if not (image or name or options):
            return {}
        for field, text in (("image", image), ("name", name)):
            if not text:
                self.fail(
                    f"overlay.{field}", "is required when an overlay is set (see GET /version/<v>/overlays/official)"
                )
        record: dict[str, Any] = {"image": image, "name": name}
        if options:
            record["options"] = options
        return record

    def customization(self, value: Any) -> dict[str, Any]:
        data = self.mapping(value, "customization", CUSTOMIZATION_FIELDS)
        record: dict[str, Any] = {}
        config = self.string(data.get("embeddedMachineConfiguration"), "customization.embeddedMachineConfiguration")
        if config:
            record["embeddedMachineConfiguration"] = config
        kernel_args = self.string_list(data.get("extraKernelArgs"), "customization.extraKernelArgs")
        if kernel_args:
            record["extraKernelArgs"] = kernel_args
        meta = self.meta(data.get("meta"))
        if meta:
            record["meta"] = meta
        extensions = self.mapping(
            data.get("systemExtensions"), "customization.systemExtensions", SYSTEM_EXTENSIONS_FIELDS
        )
        official = self.string_list(
            extensions.get("officialExtensions"), "customization.systemExtensions.officialExtensions"
        )
        if official:
            record["systemExtensions"] = {"officialExtensions": official}
        bootloader = self.choice(data.get("bootloader"), "customization.bootloader", BOOTLOADERS, BOOTLOADER_ZERO)
        if bootloader:
            record["bootloader"] = bootloader
        secureboot = self.mapping(data.get("secureboot"), "customization.secureboot", SECUREBOOT_FIELDS)
        enroll = self.choice(secureboot.get("enrollKeys"), "customization.secureboot.enrollKeys", ENROLL_KEYS)
        well_known = self.boolean(
            secureboot.get("includeWellKnownCertificates"), "customization.secureboot.includeWellKnownCertificates"
        )
        secure: dict[str, Any] = {}
        if enroll:
            secure["enrollKeys"] = enroll
        if well_known:
            secure["includeWellKnownCertificates"] = True
        if secure:
            record["secureboot"] = secure
        disk = self.mapping(data.get("diskImage"), "customization.diskImage", DISK_IMAGE_FIELDS)
        sector = self.unsigned(disk.get("sectorSize"), "customization.diskImage.sectorSize", 2**32 - 1)
        if sector:
            record["diskImage"] = {"sectorSize": sector}
        return record

    def meta(self, value: Any) -> list[dict[str, Any]]:
        path = "customization.meta"
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.fail(path, f"must be a list of {{key, value}} mappings, got {_type_name(value)}")
            return []
        result = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if not isinstance(item, Mapping):
                self.fail(item_path, f"must be a mapping with key and value, got {_type_name(item)}")
                continue
            data = self.mapping(item, item_path, META_FIELDS)
            if data.get("key") is None:
                self.fail(f"{item_path}.key", "is required: the META key, 0 to 255 (for example 0xa or 10)")
            key = self.unsigned(data.get("key"), f"{item_path}.key", 255)
            if data.get("value") is None:
                self.fail(f"{item_path}.value", "is required: the META value as a string")
            text = self.string(data.get("value"), f"{item_path}.value")
            result.append({"key": key, "value": text})
        return result

    def options_map(self, value: Mapping[Any, Any], path: str, depth: int) -> dict[str, Any]:
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                self.fail(path, f"key {key!r} must be a string, got {_type_name(key)}")
                continue
            problem = _string_problem(key)
            if not problem and (any(c in _BREAKS for c in key) or len(key.encode("utf-8")) > _MAX_SIMPLE_KEY_BYTES):
                problem = f"keys must be single-line and at most {_MAX_SIMPLE_KEY_BYTES} bytes"
            if problem:
                self.fail(f"{path}.{key[:40]!r}", problem)
                continue
            items.append((key, self.option_value(item, f"{path}.{key}", depth + 1)))
        items.sort(key=lambda item: _NATURAL_KEY(item[0]))
        return dict(items)

    def option_value(self, value: Any, path: str, depth: int) -> Any:
        if depth > _MAX_OPTIONS_DEPTH:
            self.fail(path, f"is nested deeper than {_MAX_OPTIONS_DEPTH} levels")
            return None
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if not -(2**63) <= value <= 2**64 - 1:
                self.fail(path, f"integer {value} does not fit in 64 bits")
                return None
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, Mapping):
            return self.options_map(value, path, depth)
        if isinstance(value, (list, tuple)):
            return [self.option_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        self.fail(path, f"unsupported value of type {_type_name(value)}; use strings, numbers, booleans, lists, maps")
        return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _string_problem(text: str) -> str:
    """Return why a string cannot be carried faithfully, or ''."""
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return "contains an unpaired surrogate (not valid UTF-8)"
        if char in "\u2028\u2029":
            return "contains a Unicode line or paragraph separator (U+2028/U+2029); use \\n instead"
    return ""


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


def _go_parse_int(text: str) -> int | None:
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


def _reads_as_non_string(text: str) -> bool:
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
    if _go_parse_int(plain) is not None:
        return True
    return bool(_YAML_FLOAT.fullmatch(plain)) and _finite_float(plain)


# --------------------------------------------------------------------------------------------------------------
# go-yaml scalar rules: how a string is written
# --------------------------------------------------------------------------------------------------------------

_BREAKS = "\r\n\x85\u2028\u2029"
_FIRST_CHAR_INDICATORS = "#,[]{}&*!|>'\"%@`"
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_ESCAPES = {
    "\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r", "\x1b": "e",
    '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P",
}  # fmt: skip


def _printable(char: str) -> bool:
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
        preceded_by_blank = index == 0 or text[index - 1] in " \t\0" + _BREAKS
        if index == 0:
            if char in _FIRST_CHAR_INDICATORS or (char in "?:-" and followed_by_blank):
                block_indicator = True
        elif (char == ":" and followed_by_blank) or (char == "#" and preceded_by_blank):
            block_indicator = True
        if char == "\t":
            tabs = True
        elif not _printable(char):
            special = True
        if char == " ":
            leading_space = leading_space or index == 0
            trailing_space = index == len(text) - 1
            break_space = break_space or (index > 0 and text[index - 1] in _BREAKS)
        elif char in _BREAKS:
            breaks = True
            space_break = space_break or (index > 0 and text[index - 1] == " ")
    edge = leading_space or trailing_space or text[0] in _BREAKS or text[-1] in _BREAKS
    plain = not (edge or break_space or space_break or tabs or special or breaks or block_indicator)
    single = not (break_space or space_break or tabs or special)
    literal = not (trailing_space or space_break or special)
    return plain, single, literal


def _string_style(text: str, key: bool = False) -> str:
    """Pick the style go-yaml writes a string in: plain, single, double or literal."""
    if "\n" in text:
        wanted = "literal" if len(text.encode("utf-8")) >= 2 and any(c not in _GO_SPACES for c in text) else "double"
    elif text in _YAML11_BOOLS or text == "<<" or (text[:1] in "+-0123456789" and _BASE60.fullmatch(text)):
        wanted = "single"
    elif _reads_as_non_string(text):
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


def _double_quoted(text: str) -> str:
    # go-yaml escapes every character of a string that starts with a byte order mark.
    escape_all = text.startswith("\ufeff")
    out = ['"']
    for char in text:
        if not escape_all and _printable(char) and char not in _BREAKS and char not in '"\\':
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
    elif len(text) >= 2 and text[-2] in _BREAKS:
        header += "+"
    return header


def _go_float(value: float) -> str:
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


def _natural_less(a: str, b: str) -> bool:
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
    if _natural_less(left, right):
        return -1
    return 1 if _natural_less(right, left) else 0


_NATURAL_KEY = cmp_to_key(_natural_cmp)


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
            return _go_float(value), None
        style = _string_style(value, key)
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

    def sequence(self, items: list[Any], indent: int) -> None:
        for item in items:
            self.node_after(" " * indent + "-", item, indent + 2, True)


# --------------------------------------------------------------------------------------------------------------
# Request body (JSON notation, which YAML reads)
# --------------------------------------------------------------------------------------------------------------

_YAML_UNREADABLE = re.compile("[\x7f-\x9f\ufeff\ufffe\uffff]")


def _json_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return _YAML_UNREADABLE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", encoded)


def _flow(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_json_string(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(_flow(item) for item in value) + "]"
