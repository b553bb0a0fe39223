# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Reading the values of one node-settings block: size, extensions, kernel args, META, labels, taints."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.extension_catalog import (
    CATALOG_LINE,
    OFFICIAL_EXTENSIONS_V1_13,
    RETIRED_EXTENSIONS,
    catalog_covers,
    is_official,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import Reader, describe, is_dns_name
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import closest, one_of
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import MetaEntry

ARCHES = ("amd64", "arm64")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
HCLOUD_SERVER_TYPE_RE = re.compile(r"^(?P<family>cax|ccx|cpx|cx)\d{2,3}$")
HCLOUD_FAMILY_ARCH = {"cax": "arm64", "ccx": "amd64", "cpx": "amd64", "cx": "amd64"}
PROXMOX_SIZE_KEYS = {"cores": (1, 512), "memory": (256, 16_777_216), "disk": (1, 1_048_576)}
# META keys Talos itself writes (pkg/machinery/meta/constants.go): setting them in a schematic fights Talos.
TALOS_OWNED_META = {
    0x06: "upgrade tag",
    0x07: "staged upgrade image",
    0x08: "staged upgrade options",
    0x09: "state encryption config",
    0x10: "unique machine token",
    0x11: "disk image bootloader",
}
_LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


class NodeValueReader:
    """Reads the values of node settings; ``NodeReader`` adds groups, pools and nodes."""

    def __init__(self, r: Reader, provider_type: str | None, talos_version: str | None) -> None:
        self.r = r
        self.report = r.report
        self.provider_type = provider_type
        self.talos_version = talos_version

    def _size(self, m: dict, path: str) -> str | dict[str, int] | None:
        value = m.get("size")
        where = f"{path}.size"
        if value is None:
            return None
        if isinstance(value, str) and self.provider_type != "proxmox":
            if self.r.as_written(value, where) is None:
                return None
            if self.provider_type == "hcloud" and not HCLOUD_SERVER_TYPE_RE.fullmatch(value):
                lower = HCLOUD_SERVER_TYPE_RE.fullmatch(value.lower())
                case = " (they are written in lower case)" if lower else ""
                self.report.error(
                    where,
                    f'"{value}" is not a Hetzner Cloud server type{case}',
                    f'write "{value.lower()}"'
                    if lower
                    else "write a server type such as cx22, cpx31, ccx13 (amd64) or cax21 (arm64)",
                )
                return None
            return value
        if isinstance(value, dict) and self.provider_type != "hcloud":
            self.r.known_keys(value, tuple(PROXMOX_SIZE_KEYS), where)
            size = {}
            for key, (low, high) in PROXMOX_SIZE_KEYS.items():
                unit = {"memory": " of MiB", "disk": " of GiB"}.get(key, "")
                number = self.r.integer(value, key, where, low, high, unit)
                if number is not None:
                    size[key] = number
            return size
        if self.provider_type == "hcloud":
            self.report.error(
                where,
                f"on Hetzner Cloud the size is a server type, not {describe(value)}",
                "write a server type such as size: cx22",
            )
        elif self.provider_type == "proxmox":
            self.report.error(
                where,
                f"on Proxmox the size is a mapping, not {describe(value)}",
                "write size: {cores: 2, memory: 4096, disk: 20} (memory in MiB, disk in GiB)",
            )
        else:
            self.report.error(
                where,
                f"{describe(value)} is not a size",
                "write a Hetzner server type (cx22) or a Proxmox mapping {cores, memory, disk}",
            )
        return None

    def _strings(self, m: dict, key: str, path: str, example: str) -> list[tuple[int, str]] | None:
        items = self.r.items(m, key, path, example)
        if items is None:
            return None
        good = []
        for i, item in enumerate(items):
            if isinstance(item, str) and item.strip():
                if self.r.as_written(item, f"{path}.{key}[{i}]") is not None:
                    good.append((i, item))
            else:
                self.report.error(
                    f"{path}.{key}[{i}]",
                    f"{describe(item)} is not a text value",
                    f"write each entry as text, for example {example}",
                )
        return good

    def _extensions(self, m: dict, path: str) -> list[str] | None:
        items = self._strings(m, "extensions", path, "[siderolabs/qemu-guest-agent]")
        if items is None:
            return None
        seen: dict[str, int] = {}
        names = []
        for i, name in items:
            where = f"{path}.extensions[{i}]"
            if name in seen:
                self.report.error(
                    where, f'"{name}" is listed twice (also at index {seen[name]})', "list each extension once"
                )
                continue
            seen[name] = i
            names.append(name)
            if is_official(name, self.talos_version):
                continue
            self._unknown_extension(name, where)
        return names

    def _unknown_extension(self, name: str, where: str) -> None:
        if "/" not in name and f"siderolabs/{name}" in OFFICIAL_EXTENSIONS_V1_13:
            self.report.error(
                where,
                f'"{name}" is not a full extension name',
                f'write "siderolabs/{name}" (official extensions are named with their namespace)',
            )
            return
        if name in RETIRED_EXTENSIONS:
            newer = RETIRED_EXTENSIONS[name]
            fix = f'use "{newer}" instead' if newer else "remove it; it is no longer built"
            self.report.error(where, f'"{name}" is not built for Talos {CATALOG_LINE}', fix)
            return
        short_names = [e.split("/", 1)[1] for e in OFFICIAL_EXTENSIONS_V1_13]
        guess = closest(name, OFFICIAL_EXTENSIONS_V1_13, 0.75) or closest(name.split("/")[-1], short_names, 0.75)
        if guess and "/" not in guess:
            guess = f"siderolabs/{guess}"
        hint = f' (did you mean "{guess}"?)' if guess else ""
        fix = f'write "{guess}"' if guess else "check the name in the Image Factory's list of official extensions"
        if catalog_covers(self.talos_version) or self.talos_version is None:
            self.report.error(where, f'"{name}" is not an official Talos {CATALOG_LINE} system extension{hint}', fix)
        else:
            self.report.warning(
                where,
                f'"{name}" is not in the offline list of official extensions (made for Talos '
                f"{CATALOG_LINE}){hint}; the Image Factory will be asked at run time",
                f"{fix}, if it is a typo",
            )

    def _kernel_args(self, m: dict, path: str) -> list[str] | None:
        items = self._strings(m, "kernel_args", path, "[net.ifnames=0]")
        if items is None:
            return None
        for i, arg in items:
            if any(c.isspace() for c in arg):
                self.report.error(
                    f"{path}.kernel_args[{i}]",
                    f'"{arg}" holds more than one argument',
                    "write one kernel argument per list entry",
                )
        return [arg for _unused, arg in items]

    def _meta(self, m: dict, path: str) -> list[MetaEntry] | None:
        items = self.r.items(m, "meta", path, '[{key: 0xa, value: "..."}]')
        if items is None:
            return None
        entries: list[MetaEntry] = []
        seen: dict[int, int] = {}
        for i, item in enumerate(items):
            where = f"{path}.meta[{i}]"
            entry = self.r.mapping(item, where, '{key: 0xa, value: "..."}')
            if entry is None:
                continue
            self.r.known_keys(entry, ("key", "value"), where)
            self.r.required(entry, "key", where, "0xa")
            self.r.required(entry, "value", where, '"<text>"')
            key = parse_meta_key(entry.get("key"))
            if entry.get("key") is not None and key is None:
                self.report.error(
                    f"{where}.key",
                    f"{describe(entry.get('key'))} is not a META key (0..255)",
                    "write a number from 0 to 255, in decimal (10) or hex (0xa)",
                )
            value = entry.get("value")
            if value is not None and not isinstance(value, str):
                self.report.error(
                    f"{where}.value",
                    f"must be text, not {describe(value)}",
                    "write the value as a string; a YAML document goes in a block string (value: |)",
                )
                value = None
            if key is None or value is None:
                continue
            if key in seen:
                self.report.error(
                    f"{where}.key", f"META key {key} is set twice (also at meta[{seen[key]}])", "set each META key once"
                )
                continue
            if key in TALOS_OWNED_META:
                self.report.warning(
                    f"{where}.key",
                    f"META key {key} ({hex(key)}) holds the {TALOS_OWNED_META[key]}, which Talos writes itself",
                    "use 0xa for network configuration or 0xc..0xe for your own data",
                )
            seen[key] = i
            entries.append(MetaEntry(key, value))
        return entries

    def _labels(self, m: dict, path: str) -> dict[str, str] | None:
        value = self.r.mapping(m.get("labels"), f"{path}.labels", "{topology.kubernetes.io/zone: fsn1}")
        if value is None:
            return None
        labels = {}
        for key, text in value.items():
            where = f"{path}.labels.{key}"
            problem = label_key_problem(key)
            if problem:
                self.report.error(
                    where,
                    f"{describe(key)} is not a valid label key: {problem}",
                    "use an optional DNS prefix and a name of up to 63 letters, digits, '-', '_' or "
                    "'.', like example.org/tier",
                )
                continue
            if not isinstance(text, str):
                self.report.error(
                    where,
                    f"label values are text, not {describe(text)}",
                    'quote the value, for example "true" or "3" (and "" for an empty value)',
                )
                continue
            if text and not _LABEL_NAME_RE.fullmatch(text):
                self.report.error(
                    where,
                    f'"{text}" is not a valid label value',
                    "use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
                )
                continue
            labels[key] = text
        return labels

    def _taints(self, m: dict, path: str) -> list[str] | None:
        items = self._strings(m, "taints", path, "[dedicated=ingress:NoSchedule]")
        if items is None:
            return None
        for i, taint in items:
            problem = taint_problem(taint)
            if problem:
                self.report.error(
                    f"{path}.taints[{i}]",
                    f'"{taint}" is not a taint: {problem}',
                    f"write key=value:Effect or key:Effect, with Effect one of {one_of(TAINT_EFFECTS)}",
                )
        return [taint for _unused, taint in items]


def parse_meta_key(value: Any) -> int | None:
    """A META key from 10, "10", 0xa or "0xa"; None when it is not one of 0..255."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.lower()  # 0xA and 0XA are the same number; white space around it is refused below
        if text != text.strip():
            return None
        try:
            value = int(text, 16) if text.startswith("0x") else int(text, 10)
        except ValueError:
            return None
    if isinstance(value, int) and 0 <= value <= 255:
        return value
    return None


def label_key_problem(key: Any) -> str | None:
    if not isinstance(key, str) or not key:
        return "keys are text"
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix or len(prefix) > 253 or not is_dns_name(prefix) or prefix != prefix.lower():
            return f'the prefix "{prefix}" is not a lower-case DNS name'
    if not _LABEL_NAME_RE.fullmatch(name):
        return (
            f'the name "{name}" must be 1 to 63 letters, digits, "-", "_" or ".", starting and ending with a '
            "letter or digit"
        )
    return None


def taint_problem(taint: str) -> str | None:
    head, colon, effect = taint.rpartition(":")
    if not colon:
        return "the effect is missing"
    if effect not in TAINT_EFFECTS:
        guess = closest(effect, TAINT_EFFECTS)
        return f'"{effect}" is not an effect' + (f' (did you mean "{guess}"?)' if guess else "")
    key, equals, value = head.partition("=")
    problem = label_key_problem(key)
    if problem:
        return f"the key is invalid ({problem})"
    if equals and value and not _LABEL_NAME_RE.fullmatch(value):
        return f'the value "{value}" is invalid'
    return None
