# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Pure decisions of hcloud_talos_image: the wanted snapshots, their labels, reuse, the cheapest build server.

A schematic ID has 64 characters and a label value at most 63, so the ID is kept in two labels of 32
(``talosforge.io/schematic-head`` and ``-tail``): a snapshot is found by an exact label selector.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    CLUSTER,
    COLLECTION,
    MANAGED_BY,
    PREFIX,
    TEMPORARY,
    check_labels,
    selector,
)

IMAGE = PREFIX + "image"
VERSION = PREFIX + "talos-version"
SCHEMATIC_HEAD = PREFIX + "schematic-head"
SCHEMATIC_TAIL = PREFIX + "schematic-tail"
ARCH = PREFIX + "arch"
ARCHES = ("amd64", "arm64")
# The API names architectures x86 and arm.
API_ARCH = {"amd64": "x86", "arm64": "arm"}
BUILD = "image-build"
_SCHEMATIC = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?")


class ImageSpecError(InputError):
    """An entry of ``images`` cannot be built as given."""


@dataclass(frozen=True)
class Wanted:
    talos_version: str
    schematic_id: str
    arch: str
    url: str
    location: str
    server_type: str | None = None

    def labels(self, cluster: str | None) -> dict[str, str]:
        labels = {
            MANAGED_BY: COLLECTION,
            IMAGE: "talos",
            VERSION: self.talos_version,
            SCHEMATIC_HEAD: self.schematic_id[:32],
            SCHEMATIC_TAIL: self.schematic_id[32:],
            ARCH: self.arch,
        }
        if cluster:
            labels[CLUSTER] = cluster
        return check_labels(labels, "snapshot")

    def description(self) -> str:
        return f"Talos {self.talos_version} {self.arch} schematic {self.schematic_id[:12]} (talosforge.cluster)"

    def key(self) -> str:
        return f"{self.talos_version}/{self.schematic_id[:12]}/{self.arch}"


def wanted_images(params: Mapping[str, Any]) -> list[Wanted]:
    """The distinct images of ``params['images']`` (first-seen order); raises naming every bad entry."""
    problems: list[str] = []
    result: list[Wanted] = []
    for index, entry in enumerate(params.get("images") or []):
        entry = entry or {}
        where = f"images[{index}]"
        version = str(entry.get("talos_version") or params.get("talos_version") or "")
        version = version if version.startswith("v") else "v" + version
        schematic = str(entry.get("schematic_id") or "")
        arch = entry.get("arch") or "amd64"
        url = entry.get("url") or ""
        if not _VERSION.fullmatch(version):
            problems.append(f"{where}: talos_version {version!r} is not a Talos version such as v1.13.9")
        if not _SCHEMATIC.fullmatch(schematic):
            problems.append(f"{where}: schematic_id must be the 64 hex characters the Image Factory returns")
        if arch not in ARCHES:
            problems.append(f"{where}: arch {arch!r} must be one of {', '.join(ARCHES)}")
        if not url.startswith(("http://", "https://")):
            problems.append(f"{where}: url {url!r} must be the http(s) URL of the hcloud-{arch}.raw.xz image")
        elif not url.endswith(".raw.xz"):
            problems.append(f"{where}: url must name a .raw.xz disk image (the Image Factory's hcloud-<arch>.raw.xz)")
        wanted = Wanted(
            version,
            schematic,
            arch,
            url,
            entry.get("location") or params.get("location") or "fsn1",
            entry.get("server_type") or (params.get("server_types") or {}).get(arch),
        )
        if wanted not in result:
            result.append(wanted)
    if problems:
        raise ImageSpecError("; ".join(problems))
    return result


def snapshot_selector(cluster: str | None) -> str:
    labels = {MANAGED_BY: COLLECTION, IMAGE: "talos"}
    if cluster:
        labels[CLUSTER] = cluster
    return selector(labels)


def temporary_labels(cluster: str | None) -> dict[str, str]:
    labels = {MANAGED_BY: COLLECTION, TEMPORARY: BUILD}
    if cluster:
        labels[CLUSTER] = cluster
    return labels


def find_snapshot(wanted: Wanted, snapshots: list[dict[str, Any]], cluster: str | None) -> dict[str, Any] | None:
    """The newest snapshot carrying all the labels of ``wanted`` (an unusable one is never returned)."""
    labels = wanted.labels(cluster)
    fitting = [
        image
        for image in snapshots
        if all((image.get("labels") or {}).get(k) == v for k, v in labels.items())
        and image.get("status") in ("available", "creating")
        and image.get("architecture", API_ARCH[wanted.arch]) == API_ARCH[wanted.arch]
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda image: (image.get("status") == "available", image.get("created") or "", image["id"]))


def _price(server_type: Mapping[str, Any], location: str) -> Decimal | None:
    for price in server_type.get("prices") or []:
        if price.get("location") == location:
            try:
                return Decimal(str((price.get("price_monthly") or {}).get("gross")))
            except (InvalidOperation, ValueError):
                return None
    return None


def cheapest_server_type(server_types: list[dict[str, Any]], arch: str, location: str) -> str:
    """The cheapest server type of ``arch`` sold in ``location`` that is not deprecated."""
    offers = []
    for server_type in server_types:
        if server_type.get("architecture") != API_ARCH[arch] or server_type.get("deprecation"):
            continue
        price = _price(server_type, location)
        if price is not None:
            offers.append((price, server_type.get("disk") or 0, server_type["name"]))
    if not offers:
        raise ImageSpecError(
            f"no server type of architecture {arch} is offered in {location}; choose another "
            "location or set server_types"
        )
    return min(offers)[2]


def write_command(url: str, device: str = "/dev/sda") -> str:
    """What runs on the rescue system: fetch the image, unpack it and write it to the disk (as hcloud-upload-image)."""
    inner = (
        f"curl -fsSL --retry 3 --connect-timeout 20 {shlex.quote(url)} | xz -d | "
        f"dd of={shlex.quote(device)} bs=4M conv=fsync status=none && sync"
    )
    return "bash -o pipefail -c " + shlex.quote(inner)
