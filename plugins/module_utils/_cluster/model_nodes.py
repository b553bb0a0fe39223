# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The node part of the cluster model: settings as written (None is "not set here") and resolved nodes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import IPAddress

ROLES = ("controlplane", "worker")


def text_or_none(value: Any) -> Any:
    return None if value is None else str(value)


@dataclass
class MetaEntry:
    key: int
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}


@dataclass
class NodeSettings:
    """What node_defaults, control_plane, worker, a pool and a node may set; None is "not set here"."""

    size: str | dict[str, int] | None = None
    arch: str | None = None
    location: str | None = None
    install_disk: str | None = None
    extensions: list[str] | None = None
    kernel_args: list[str] | None = None
    meta: list[MetaEntry] | None = None
    labels: dict[str, str] | None = None
    taints: list[str] | None = None
    patches: list[Any] | None = None
    path: str = ""


@dataclass
class NodePool:
    name: str | None
    role: str | None
    count: int | None
    first_address: IPAddress | None
    locations: list[str] | None
    settings: NodeSettings
    path: str


@dataclass
class NodeSpec:
    """A node as written under ``nodes[]``."""

    name: str | None
    role: str | None
    address: IPAddress | None
    settings: NodeSettings
    path: str


@dataclass
class Node:
    """A node with every inherited setting resolved and its derived values."""

    name: str
    role: str
    address: IPAddress | None
    pool: str | None
    index: int
    size: str | dict[str, int] | None
    arch: str
    location: str | None
    install_disk: str
    extensions: list[str]
    kernel_args: list[str]
    meta: list[MetaEntry]
    labels: dict[str, str]
    taints: list[str]
    patches: list[Any]
    platform: str | None
    schematic: dict[str, Any]
    origin: str = field(default="", compare=False)
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def source(self, setting: str) -> str:
        """The field path where this node's value of ``setting`` was written (or the node's own path)."""
        return self.sources.get(setting) or f"{self.origin}.{setting}"

    def describe(self) -> str:
        return f'node "{self.name}" (from {self.origin})' if self.pool else f'node "{self.name}"'

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "address": text_or_none(self.address),
            "pool": self.pool,
            "index": self.index,
            "size": dict(self.size) if isinstance(self.size, dict) else self.size,
            "arch": self.arch,
            "location": self.location,
            "install_disk": self.install_disk,
            "extensions": list(self.extensions),
            "kernel_args": list(self.kernel_args),
            "meta": [entry.to_dict() for entry in self.meta],
            "labels": dict(self.labels),
            "taints": list(self.taints),
            "patches": copy.deepcopy(self.patches),
            "platform": self.platform,
            "schematic": copy.deepcopy(self.schematic),
        }
