# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Names of Hetzner Cloud resources turned into ids, each looked up once per run (thread-safe)."""

from __future__ import annotations

import threading
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient, HcloudError


class References:
    """Names of networks, firewalls, placement groups and images turned into ids, each looked up once."""

    KINDS = {"network": "networks", "firewall": "firewalls", "placement_group": "placement_groups"}

    def __init__(self, client: HcloudClient):
        self.client = client
        self.cache: dict[tuple[str, str], Any] = {}
        self.lock = threading.Lock()

    def id_of(self, kind: str, value: str | None) -> int | None:
        if value is None:
            return None
        if value.isdigit():
            return int(value)
        key = (kind, value)
        with self.lock:
            return self._lookup(kind, value, key)

    def _lookup(self, kind: str, value: str, key: tuple[str, str]) -> int:
        if key not in self.cache:
            found = self.client.list(self.KINDS[kind], {"name": value})
            if not found:
                raise HcloudError(
                    f"{kind} {value!r} does not exist in the project; create it first or give its id", 404, "not_found"
                )
            self.cache[key] = int(found[0]["id"])
        return self.cache[key]

    def image(self, value: str, arch: str | None = None) -> str | int:
        """An image id, or a name the API resolves; ``label:<selector>`` picks the newest matching snapshot."""
        if value.isdigit():
            return int(value)
        if not value.startswith("label:"):
            return value
        with self.lock:
            return self._snapshot(value, arch)

    def _snapshot(self, value: str, arch: str | None) -> int:
        key = ("image", value + "|" + (arch or ""))
        if key not in self.cache:
            query: dict[str, Any] = {"type": "snapshot", "label_selector": value[len("label:") :]}
            if arch:
                query["architecture"] = arch
            found = self.client.list("images", query)
            if not found:
                raise HcloudError(
                    f"no snapshot matches {value!r}"
                    + (f" for {arch}" if arch else "")
                    + "; build it with talosforge.cluster.hcloud_talos_image",
                    404,
                    "not_found",
                )
            self.cache[key] = int(max(found, key=lambda image: (image.get("created") or "", image["id"]))["id"])
        return self.cache[key]
