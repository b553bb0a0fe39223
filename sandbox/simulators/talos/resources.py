"""The COSI resources a simulated node serves (``talosctl get``): kinds, identities, specs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .state import Node, Store


@dataclass(frozen=True)
class Kind:
    type: str
    display: str
    namespace: str
    owner: str
    columns: tuple[tuple[str, str], ...]  # (header, dotted path in spec)
    names: tuple[str, ...]


KINDS = (
    Kind(
        "MachineStatuses.runtime.talos.dev",
        "MachineStatus",
        "runtime",
        "runtime.MachineStatusController",
        (("STAGE", "stage"), ("READY", "status.ready")),
        ("machinestatus", "machinestatuses"),
    ),
    Kind(
        "Members.cluster.talos.dev",
        "Member",
        "cluster",
        "cluster.MemberController",
        (
            ("HOSTNAME", "hostname"),
            ("MACHINE TYPE", "machineType"),
            ("OS", "operatingSystem"),
            ("ADDRESSES", "addresses"),
        ),
        ("member", "members"),
    ),
    Kind(
        "Versions.runtime.talos.dev",
        "Version",
        "runtime",
        "runtime.VersionController",
        (("NAME", "name"), ("VERSION", "version")),
        ("version", "versions"),
    ),
    Kind(
        "MachineConfigs.config.talos.dev", "MachineConfig", "config", "", (), ("machineconfig", "machineconfigs", "mc")
    ),
    Kind(
        "ExtensionStatuses.runtime.talos.dev",
        "ExtensionStatus",
        "runtime",
        "runtime.ExtensionStatusController",
        (("NAME", "metadata.name"), ("VERSION", "metadata.version")),
        ("extensions", "extensionstatus", "extensionstatuses"),
    ),
)


def find_kind(name: str) -> Kind | None:
    wanted = name.lower()
    for kind in KINDS:
        if wanted in kind.names or wanted == kind.type.lower() or wanted == kind.display.lower():
            return kind
    return None


def node_id(address: str) -> str:
    """A stable base62-looking node identity, like the discovery service's."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digest = hashlib.sha256(f"node-id:{address}".encode()).digest()
    return "".join(alphabet[byte % 62] for byte in digest[:43])


def _machine_status(store: Store, node: Node) -> dict[str, Any]:
    unmet: list[dict[str, str]] = []
    if node.stage == "running" and node.role == "controlplane" and node.cluster_id:
        if not store.cluster(node.cluster_id).bootstrapped:
            unmet.append({"name": "services", "reason": "unhealthy services: etcd"})
    ready = node.stage == "running" and not unmet
    return {
        "stage": node.stage if node.stage != "off" else "shutting down",
        "status": {"ready": ready, "unmetConditions": unmet},
    }


def _member(node: Node) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "nodeId": node_id(node.address),
        "addresses": [node.address],
        "hostname": node.hostname,
        "machineType": node.role,
        "operatingSystem": f"Talos ({node.talos_version})",
    }
    if node.role == "controlplane":
        spec["controlPlane"] = {"apiServerPort": 6443}
    return spec


def _extensions(store: Store, node: Node) -> list[dict[str, Any]]:
    """What an Image Factory image reports: its official extensions, then the pseudo-extension ``schematic``.

    The extensions come from the schematic as the Image Factory simulator of the same sandbox registered it
    (``<state>/image-factory/schematics/<id>.json``); an image whose schematic the factory never saw has none.
    """
    try:
        registered = json.loads(
            (store.state_dir / "image-factory" / "schematics" / f"{node.schematic}.json").read_text()
        )
    except (OSError, ValueError):
        registered = {}
    found = []
    for name in registered.get("officialExtensions") or []:
        short = str(name).rsplit("/", 1)[-1]
        version = hashlib.sha256(f"{short}:{node.talos_version}".encode()).hexdigest()[:6]
        found.append(
            {"image": f"{short}.sqsh", "metadata": {"name": short, "version": f"{version}-{node.talos_version}"}}
        )
    schematic = {"name": "schematic", "version": node.schematic, "description": "Image Factory schematic"}
    found.append({"image": "schematic.sqsh", "metadata": schematic})
    return found


def items(store: Store, node: Node, kind: Kind) -> list[tuple[str, int, dict[str, Any] | str]]:
    """(id, version, spec) of every resource of ``kind`` the node has."""
    if kind.display == "MachineStatus":
        return [("machine", node.config_version + node.reboots + 1, _machine_status(store, node))]
    if kind.display == "Version":
        return [("version", 1, {"name": "Talos", "version": node.talos_version})]
    if kind.display == "ExtensionStatus":
        return [(str(index), 1, spec) for index, spec in enumerate(_extensions(store, node))]
    if kind.display == "MachineConfig":
        text = store.config(node.address)
        return [("v1alpha1", node.config_version, text)] if text and node.configured else []
    if not node.configured or not node.cluster_id:
        return []
    members = [other for other in store.cluster_nodes(node.cluster_id) if other.stage == "running"]
    members = [node if other.address == node.address else other for other in members]
    return [(member.hostname, 1 + member.reboots, _member(member)) for member in members]
