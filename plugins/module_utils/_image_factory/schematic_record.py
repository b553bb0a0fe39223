# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The factory's schematic record, and the strict walk that builds it from what a user wrote.

The factory decodes a schematic strictly into a fixed record (unknown fields refused, types checked). Normalizer
does the same in Python: it collects every problem with its field path (``customization.meta[0].key: ...``) and
returns the record with empty fields dropped (go-yaml's omitempty), keys in declaration order. Only the standard
library is used (no Ansible import).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.yaml_scalars import (
    BREAKS,
    NATURAL_KEY,
    go_parse_int,
)

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


class Normalizer:
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
            number = go_parse_int(value.strip().replace("_", ""))
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
            if not problem and (any(c in BREAKS for c in key) or len(key.encode("utf-8")) > _MAX_SIMPLE_KEY_BYTES):
                problem = f"keys must be single-line and at most {_MAX_SIMPLE_KEY_BYTES} bytes"
            if problem:
                self.fail(f"{path}.{key[:40]!r}", problem)
                continue
            items.append((key, self.option_value(item, f"{path}.{key}", depth + 1)))
        items.sort(key=lambda item: NATURAL_KEY(item[0]))
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
