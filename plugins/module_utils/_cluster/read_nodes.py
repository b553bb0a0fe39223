# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Reading node settings, node pools and nodes, each checked where it is written."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import DNS_LABEL_RE, Reader, describe
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import closest, one_of
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import (
    ROLES,
    NodePool,
    NodeSettings,
    NodeSpec,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read import read_patches
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read_node_values import (
    ARCHES,
    NodeValueReader,
)

SETTING_KEYS = (
    "size",
    "arch",
    "location",
    "install_disk",
    "extensions",
    "kernel_args",
    "meta",
    "labels",
    "taints",
    "patches",
)
POOL_KEYS = ("name", "role", "count", "first_address", "locations", *SETTING_KEYS)
NODE_KEYS = ("name", "role", "address", *SETTING_KEYS)
_ROLE_ALIASES = {
    "control-plane": "controlplane",
    "control_plane": "controlplane",
    "controller": "controlplane",
    "master": "controlplane",
    "server": "controlplane",
    "cp": "controlplane",
    "workers": "worker",
    "agent": "worker",
    "node": "worker",
    "compute": "worker",
}


class NodeReader(NodeValueReader):
    """Reads the node-related parts of a definition with what it needs to know about the rest."""

    def __init__(self, r: Reader, provider_type: str | None, addressing: str | None, talos_version: str | None):
        super().__init__(r, provider_type, talos_version)
        self.needs_address = provider_type == "proxmox" and addressing in ("meta", "nocloud")
        self.addressing = addressing

    # -- groups, pools, nodes ----------------------------------------------------------------------------------
    def group(self, data: dict, key: str) -> NodeSettings:
        m = self.r.mapping(data.get(key), key, "{extensions: [siderolabs/qemu-guest-agent]}")
        if m is None:
            return NodeSettings(path=key)
        self.r.known_keys(m, SETTING_KEYS, key)
        return self.settings(m, key)

    def pool(self, value: Any, path: str) -> NodePool | None:
        r = self.r
        m = r.mapping(value, path, "{name: workers, role: worker, count: 2}")
        if m is None:
            return None
        r.known_keys(m, POOL_KEYS, path)
        for key, example in (("name", "workers"), ("role", "worker"), ("count", "2")):
            r.required(m, key, path, example)
        name = r.pattern(
            m,
            "name",
            path,
            DNS_LABEL_RE,
            "pool names are DNS labels: lower-case letters, digits and '-', starting and ending with a letter or digit",
            "workers",
        )
        count = r.integer(m, "count", path, 0, 1000)
        first = r.ip(m, "first_address", path)
        if self.needs_address and m.get("first_address") is None and count:
            self.report.error(
                f"{path}.first_address",
                f"is required: with provider.proxmox.addressing {self.addressing} every node needs a static address",
                "add first_address: <the address of the pool's first node>",
            )
        locations = self._locations(m, path)
        if locations is not None and m.get("location") is not None:
            self.report.error(
                f"{path}.location",
                "is set together with locations",
                "keep one: locations spreads the pool round robin, location puts it all in one place",
            )
        if name and count:
            longest = f"{name}-{count}"
            if len(longest) > 63:
                self.report.error(
                    f"{path}.name",
                    f'node names such as "{longest}" are longer than 63 characters',
                    "choose a shorter pool name",
                )
        return NodePool(name, self.role(m, path), count, first, locations, self.settings(m, path), path)

    def node(self, value: Any, path: str) -> NodeSpec | None:
        r = self.r
        m = r.mapping(value, path, "{name: cp-1, role: controlplane, address: 10.0.1.11}")
        if m is None:
            return None
        r.known_keys(m, NODE_KEYS, path)
        r.required(m, "name", path, "cp-1")
        r.required(m, "role", path, "controlplane")
        name = r.pattern(
            m,
            "name",
            path,
            DNS_LABEL_RE,
            "node names are DNS labels: lower-case letters, digits and "
            "'-', at most 63 characters, starting and ending with a letter or digit",
            "cp-1",
        )
        if self.needs_address and m.get("address") is None:
            self.report.error(
                f"{path}.address",
                f"is required: with provider.proxmox.addressing {self.addressing} every node needs a static address",
                "add address: <an address in network.nodes>, or set provider.proxmox.addressing: dhcp",
            )
        return NodeSpec(name, self.role(m, path), r.ip(m, "address", path), self.settings(m, path), path)

    def role(self, m: dict, path: str) -> str | None:
        value = m.get("role")
        if value is None or value in ROLES:
            return value
        guess = _ROLE_ALIASES.get(str(value).lower()) or closest(value, ROLES)
        hint = f' (did you mean "{guess}"?)' if guess else ""
        self.report.error(
            f"{path}.role",
            f"{describe(value)} is not a role{hint}",
            f"set role to {one_of(ROLES)}; a control plane that also runs workloads stays "
            "controlplane, with allow_scheduling_on_control_planes: true",
        )
        return None

    def _locations(self, m: dict, path: str) -> list[str] | None:
        items = self.r.items(m, "locations", path, "[fsn1, nbg1, hel1]")
        if items is None:
            return None
        if not items:
            self.report.error(f"{path}.locations", "is empty", "list at least one location, or remove locations")
        good = []
        for i, item in enumerate(items):
            if isinstance(item, str) and item.strip():
                if self.r.as_written(item, f"{path}.locations[{i}]") is not None:
                    good.append(item)
            else:
                self.report.error(
                    f"{path}.locations[{i}]",
                    f"{describe(item)} is not a location",
                    "write a Hetzner location (fsn1, nbg1, hel1, ...) or a Proxmox node name",
                )
        return good

    # -- settings ----------------------------------------------------------------------------------------------
    def settings(self, m: dict, path: str) -> NodeSettings:
        r = self.r
        s = NodeSettings(path=path)
        s.size = self._size(m, path)
        s.arch = r.choice(m, "arch", path, ARCHES)
        s.location = r.string(m, "location", path, "fsn1")
        disk = r.string(m, "install_disk", path, "/dev/sda")
        if disk is not None and not re.match(r"^/dev/\S+$", disk):
            self.report.error(
                f"{path}.install_disk",
                f'"{disk}" is not a device path',
                "write a path under /dev, such as /dev/sda or /dev/vda",
            )
        else:
            s.install_disk = disk
        s.extensions = self._extensions(m, path)
        s.kernel_args = self._kernel_args(m, path)
        s.meta = self._meta(m, path)
        s.labels = self._labels(m, path)
        s.taints = self._taints(m, path)
        s.patches = read_patches(m, "patches", path, r)
        return s
