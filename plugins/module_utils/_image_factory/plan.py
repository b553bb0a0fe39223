# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Which Talos images a cluster needs: one entry per distinct (schematic, platform, arch, format).

Pure and offline: schematic IDs are computed locally, exactly as the Image Factory computes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    default_filename,
    image_filename,
    image_url,
    installer_image,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import schematic_id

# The boot image format each Talos platform is delivered in: Hetzner snapshots are written from the raw image,
# Proxmox imports qcow2 disks (metal with META addressing, nocloud with cloud-init).
_FORMAT_BY_PLATFORM = {"hcloud": "raw.xz", "metal": "qcow2", "nocloud": "qcow2"}


def image_format(platform: str) -> str:
    return _FORMAT_BY_PLATFORM.get(platform, "raw.xz")


def resolve_cache_dir(model: dict[str, Any], base_dir: str) -> None:
    """Make ``image_factory.cache_dir`` absolute: ``~`` expanded, relative paths taken from ``base_dir``."""
    factory = model.get("image_factory") or {}
    if factory.get("cache_dir"):
        path = os.path.expanduser(factory["cache_dir"])
        factory["cache_dir"] = os.path.normpath(os.path.join(base_dir, path))


def plan_images(model: dict[str, Any], selected: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Fill in each node's ``schematic_id``, ``image_url`` and ``installer_image``, and list the distinct images.

    ``selected`` limits the returned images to those of the named nodes (``--limit``); every node of the model
    still gets its image fields.
    """
    factory = model["image_factory"]
    version = model["talos_version"]
    wanted = None if selected is None else set(selected)
    images: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for node in model["nodes"]:
        sid = schematic_id(node["schematic"])
        platform, arch = node["platform"], node["arch"]
        fmt = image_format(platform)
        node["schematic_id"] = sid
        node["image_url"] = image_url(factory["url"], sid, version, platform, arch, fmt)
        node["installer_image"] = installer_image(factory["installer_registry"], platform, sid, version)
        if wanted is not None and node["name"] not in wanted:
            continue
        key = (sid, platform, arch, fmt)
        if key not in images:
            images[key] = {
                "schematic_id": sid,
                "schematic": node["schematic"],
                "extensions": list(node["extensions"]),
                "platform": platform,
                "arch": arch,
                "format": fmt,
                "filename": image_filename(platform, arch, fmt),
                "url": node["image_url"],
                "installer_image": node["installer_image"],
                # The item talosforge.cluster.image_factory_image takes in its images list.
                "download": {
                    "schematic_id": sid,
                    "talos_version": version,
                    "platform": platform,
                    "arch": arch,
                    "format": fmt,
                    "filename": default_filename(sid, version, platform, arch, fmt, False),
                },
                "nodes": [],
            }
        images[key]["nodes"].append(node["name"])
    return list(images.values())
