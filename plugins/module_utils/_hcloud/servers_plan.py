# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Pure decisions of hcloud_servers: the desired servers, the plan against what exists, node facts, the diff.

Nothing here talks to the API: ``servers_apply`` carries the plan out. See docs/stage-contract.md for the
shape of the node facts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import ROLES
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    POOL,
    ROLE,
    LabelError,
    check_labels,
    cluster_labels,
)

# Keys a server may leave out to take the module option of the same name.
INHERITED = (
    "server_type",
    "location",
    "image",
    "network",
    "firewalls",
    "placement_group",
    "enable_ipv4",
    "enable_ipv6",
    "delete_protection",
)
BUSY = ("initializing", "starting", "stopping", "migrating", "rebuilding", "deleting")


class ServerSpecError(InputError):
    """The server list cannot be converged as given (every problem named with its index)."""


@dataclass(frozen=True)
class Desired:
    name: str
    role: str
    pool: str | None
    server_type: str
    location: str | None
    image: str
    network: str | None
    private_ipv4: str | None
    firewalls: tuple[str, ...]
    placement_group: str | None
    enable_ipv4: bool
    enable_ipv6: bool
    delete_protection: bool
    labels: tuple[tuple[str, str], ...]
    user_data: str | None = field(default=None, repr=False)

    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)

    def summary(self) -> dict[str, Any]:
        """What the diff shows of the desired server (never the user data)."""
        return {
            "server_type": self.server_type,
            "location": self.location,
            "labels": self.label_dict(),
            "delete_protection": self.delete_protection,
            "status": "running",
            "private_ipv4": self.private_ipv4,
        }


@dataclass
class Step:
    """What happens to one server: ``create``, ``update``, ``delete`` or ``unchanged``."""

    name: str
    action: str
    changes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    desired: Desired | None = None
    server: dict[str, Any] | None = None

    def report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "changes": list(self.changes),
            "drift": list(self.drift),
            "id": str(self.server["id"]) if self.server else None,
        }

    @property
    def want(self) -> Desired:
        """The desired server; only the steps of servers outside the list (delete, kept) have none."""
        if self.desired is None:
            raise ValueError(f"server {self.name}: no desired state (it is not in the server list)")
        return self.desired

    @property
    def server_id(self) -> Any:
        """The existing (or just created) server's id."""
        if self.server is None:
            raise ValueError(f"server {self.name}: not created")
        return self.server["id"]


def desired_servers(params: Mapping[str, Any]) -> list[Desired]:
    """The servers of ``params['servers']`` with module-level defaults applied; raises naming every bad entry."""
    base = cluster_labels(params["cluster"])
    problems: list[str] = []
    result: list[Desired] = []
    seen: dict[Any, int] = {}
    for index, entry in enumerate(params.get("servers") or []):
        values = dict(entry or {})
        for key in INHERITED:
            if values.get(key) is None:
                values[key] = params.get(key)
        where = f"servers[{index}]"
        name = values.get("name")
        if name in seen:
            problems.append(f"{where}: name {name!r} is also servers[{seen[name]}]; server names must be unique")
            continue
        seen[name] = index
        try:
            result.append(_one(values, base, where))
        except (ServerSpecError, LabelError) as exc:
            problems.append(str(exc))
    if problems:
        raise ServerSpecError("; ".join(problems))
    return result


def _problems(values: dict[str, Any], where: str) -> list[str]:
    problems = []
    missing = [key for key in ("name", "server_type", "image") if not values.get(key)]
    if missing:
        problems.append(
            f"{where} ({values.get('name') or 'no name'}): set {', '.join(missing)} on the server or as module options"
        )
    role = values.get("role") or "worker"
    if role not in ROLES:
        problems.append(f"{where}: role {role!r} must be one of {', '.join(ROLES)}")
    address = values.get("private_ipv4")
    if address:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            problems.append(f"{where}: private_ipv4 {address!r} is not an IPv4 address")
        if not values.get("network"):
            problems.append(f"{where}: private_ipv4 is set but no network; set network (name or id)")
    if not values.get("enable_ipv4") and not values.get("enable_ipv6") and not values.get("network"):
        problems.append(f"{where}: a server without public IPv4 and IPv6 needs a network")
    try:
        check_labels(values.get("labels") or {}, f"{where}.labels")
    except LabelError as exc:
        problems.append(str(exc))
    return problems


def _one(values: dict[str, Any], base: dict[str, str], where: str) -> Desired:
    problems = _problems(values, where)
    if problems:
        raise ServerSpecError("; ".join(problems))
    role = values.get("role") or "worker"
    address = values.get("private_ipv4")
    labels = check_labels(values.get("labels") or {}, f"{where}.labels")
    labels.update(base)
    labels[ROLE] = role
    if values.get("pool"):
        labels[POOL] = str(values["pool"])
    labels = check_labels(labels, where)
    return Desired(
        name=str(values["name"]),
        role=role,
        pool=values.get("pool"),
        server_type=str(values["server_type"]),
        location=values.get("location"),
        image=str(values["image"]),
        network=_text(values.get("network")),
        private_ipv4=address or None,
        firewalls=tuple(str(f) for f in values.get("firewalls") or ()),
        placement_group=_text(values.get("placement_group")),
        enable_ipv4=bool(values.get("enable_ipv4")),
        enable_ipv6=bool(values.get("enable_ipv6")),
        delete_protection=bool(values.get("delete_protection")),
        labels=tuple(sorted(labels.items())),
        user_data=values.get("user_data"),
    )


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def private_ips(server: Mapping[str, Any]) -> list[str]:
    return [net.get("ip") for net in server.get("private_net") or [] if net.get("ip")]


def server_changes(desired: Desired, server: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(changes this module makes, drift it only reports) for an existing server."""
    changes: list[str] = []
    drift: list[str] = []
    labels = desired.label_dict()
    if {key: (server.get("labels") or {}).get(key) for key in labels} != labels:
        changes.append("labels")
    if bool((server.get("protection") or {}).get("delete")) != desired.delete_protection:
        changes.append("delete_protection")
    if desired.network and desired.private_ipv4 and desired.private_ipv4 not in private_ips(server):
        changes.append("attach_network")
    elif desired.network and not desired.private_ipv4 and not server.get("private_net"):
        changes.append("attach_network")
    public = server.get("public_net") or {}
    if desired.firewalls and not public.get("firewalls") and (public.get("ipv4") or public.get("ipv6")):
        changes.append("firewalls")  # all of them were removed; which ones apply is not compared (no lookups)
    if server.get("status") in ("off", "initializing", "stopping"):  # busy ones are waited for first
        changes.append("power_on")
    server_type = (server.get("server_type") or {}).get("name")
    if server_type and server_type != desired.server_type:
        drift.append(f"server_type is {server_type}, wanted {desired.server_type} (not changed: it needs a reboot)")
    location = (server.get("location") or {}).get("name")
    if desired.location and location and location != desired.location:
        drift.append(f"location is {location}, wanted {desired.location} (a server cannot move; delete it to move)")
    return changes, drift


def plan(desired: list[Desired], existing: list[dict[str, Any]], prune: bool) -> list[Step]:
    """One step per desired server (in order), then one per existing server of the cluster not in the list."""
    by_name = {server["name"]: server for server in existing}
    steps: list[Step] = []
    for want in desired:
        server = by_name.pop(want.name, None)
        if server is None:
            steps.append(Step(want.name, "create", ["create"], desired=want))
            continue
        changes, drift = server_changes(want, server)
        steps.append(Step(want.name, "update" if changes else "unchanged", changes, drift, want, server))
    for name, server in sorted(by_name.items()):
        steps.append(
            Step(
                name,
                "delete" if prune else "unchanged",
                ["delete"] if prune else [],
                [] if prune else ["not in the server list; kept (set prune: true to delete)"],
                server=server,
            )
        )
    return steps


def node_fact(server: Mapping[str, Any] | None, desired: Desired | None = None) -> dict[str, Any]:
    """One entry of ``talosforge_infra.nodes`` (docs/stage-contract.md) for a server; unknown values are None."""
    server = server or {}
    labels = server.get("labels") or (desired.label_dict() if desired else {})
    public = server.get("public_net") or {}
    ipv4 = (public.get("ipv4") or {}).get("ip")
    ipv6 = (public.get("ipv6") or {}).get("ip")
    if ipv6 and "/" in ipv6:  # the API gives the server's /64; the node uses its ::1
        ipv6 = str(ipaddress.IPv6Network(ipv6, strict=False).network_address + 1)
    ips = private_ips(server)
    private = desired.private_ipv4 if desired and desired.private_ipv4 in ips else (ips[0] if ips else None)
    return {
        "name": server.get("name") or (desired.name if desired else None),
        "role": labels.get(ROLE) or (desired.role if desired else None),
        "provider": "hcloud",
        "provider_id": str(server["id"]) if server.get("id") is not None else None,
        "location": (server.get("location") or {}).get("name") or (desired.location if desired else None),
        "public_ipv4": ipv4 or None,
        "public_ipv6": ipv6 or None,
        "private_ipv4": private,
        "talos_address": ipv4 or private,
        "status": server.get("status"),
    }


def existing_summary(server: Mapping[str, Any]) -> dict[str, Any]:
    ips = private_ips(server)
    return {
        "server_type": (server.get("server_type") or {}).get("name"),
        "location": (server.get("location") or {}).get("name"),
        "labels": dict(server.get("labels") or {}),
        "delete_protection": bool((server.get("protection") or {}).get("delete")),
        "status": server.get("status"),
        "private_ipv4": ips[0] if ips else None,
    }


def diff(steps: list[Step]) -> dict[str, Any]:
    """Before/after of the servers that change, keyed by name (user data never appears)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for step in steps:
        if step.action == "unchanged":
            continue
        if step.server is not None:
            before[step.name] = existing_summary(step.server)
        if step.action != "delete" and step.desired is not None:
            after[step.name] = step.desired.summary()
    return {"before": before, "after": after}
