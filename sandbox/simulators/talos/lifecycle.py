"""What happens to a simulated node: added, installed, rebooted, joined to or removed from etcd, wiped.

A transition that takes time in the real world (installing after the first config, rebooting into a new version
after an upgrade that lost its connection) is counted in *calls*: the node refuses connections for that many
further talosctl calls that contact it, then completes. ``install_calls`` (per node, default 0) sets how long an
install takes; the ``reboot-during-upgrade`` fault sets how long that reboot takes (default 2 calls).

:mod:`.control_plane` (the real etcd and kube-apiserver, with cryptography) is imported where a node joins, leaves
or loses etcd, not at the top: it costs about 0.1 s, which every other talosctl call would pay for nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import TALOS_VERSION, yamlio
from .state import (
    FAULTS,
    VANILLA_SCHEMATIC,
    Cluster,
    Node,
    NodeNotFound,
    Store,
    check_address,
    parse_installer,
    stable_hostname,
)


def add(
    store: Store,
    address: str,
    version: str = TALOS_VERSION,
    schematic: str = VANILLA_SCHEMATIC,
    install_calls: int = 0,
    platform: str = "metal",
) -> Node:
    """A new node in maintenance mode (booted from install media of ``version``/``schematic``); replaces an old one."""
    key = check_address(address)
    if install_calls < 0 or install_calls > 1000:
        raise ValueError("install_calls must be between 0 and 1000")
    store.remove(key)
    node = Node(
        key,
        platform=platform,
        talos_version=version,
        schematic=schematic,
        install_calls=install_calls,
        hostname=stable_hostname(key),
        machine_id=hashlib.sha256(f"machine:{key}".encode()).hexdigest()[:32],
    )
    node.event("added", version=version, schematic=schematic)
    store.save(node)
    return node


def set_fault(store: Store, address: str, fault: str, calls: int = 2) -> Node:
    """Inject a fault (one of FAULTS) or ``clear`` every fault of a node."""
    node = store.node(address)
    if node is None:
        raise NodeNotFound(f"no Talos node {address} in the sandbox")
    if fault == "clear":
        node.faults = {}
    elif fault == "reboot-during-upgrade":
        if not 0 <= calls <= 1000:
            raise ValueError("calls must be between 0 and 1000")
        node.faults[fault] = calls
    elif fault in FAULTS:
        node.faults[fault] = True
    else:
        raise ValueError(f"unknown fault {fault!r}: use one of {', '.join((*FAULTS, 'clear'))}")
    node.event("fault", fault=fault)
    store.save(node)
    return node


def boot(store: Store, address: str) -> Node:
    """Power a node that was shut down (reset without --reboot) back on, into maintenance mode."""
    node = store.node(address)
    if node is None:
        raise NodeNotFound(f"no Talos node {address} in the sandbox")
    if node.stage == "off":
        node.stage = "maintenance"
        node.reboots += 1
        node.event("boot")
        store.save(node)
    return node


def join_etcd(store: Store, node: Node) -> None:
    """A running control-plane node of a bootstrapped cluster becomes an etcd member."""
    if node.role != "controlplane" or not node.cluster_id or node.stage != "running":
        return
    cluster = store.cluster(node.cluster_id)
    if cluster.bootstrapped and node.address not in cluster.members:
        from . import control_plane  # on use: see the module docstring

        control_plane.join(store, node)
        cluster.members.append(node.address)
        cluster.revision += 1
        store.save_cluster(cluster)
    if cluster.bootstrapped:
        node.etcd_member = True


def leave_etcd(store: Store, node: Node) -> Cluster | None:
    if not node.cluster_id:
        return None
    cluster = store.cluster(node.cluster_id)
    if node.address in cluster.members:
        from . import control_plane  # on use: see the module docstring

        control_plane.leave(store, node, last=cluster.members == [node.address])
        cluster.members.remove(node.address)
        cluster.revision += 1
        if not cluster.members:
            cluster.bootstrapped, cluster.bootstrap_node = False, None
        store.save_cluster(cluster)
    node.etcd_member = False
    return cluster


def configure(node: Node, documents: list[dict[str, Any]], text: str) -> None:
    """Take the identity a machine config gives a node (role, cluster, CA, hostname, Kubernetes version)."""
    v1alpha1 = _v1alpha1(documents) or {}
    machine, cluster = v1alpha1.get("machine") or {}, v1alpha1.get("cluster") or {}
    node.role = machine.get("type")
    node.cluster_id = cluster.get("id") or f"name:{cluster.get('clusterName', '')}"
    node.cluster_name = cluster.get("clusterName")
    node.cluster_endpoint = (cluster.get("controlPlane") or {}).get("endpoint")
    node.ca_crt = (machine.get("ca") or {}).get("crt")
    node.install_disk = (machine.get("install") or {}).get("disk")
    kubelet_image = str((machine.get("kubelet") or {}).get("image") or "")
    node.kubernetes_version = kubelet_image.rsplit(":v", 1)[1] if ":v" in kubelet_image else node.kubernetes_version
    _take_hostname(node, documents)
    node.config_sha256 = hashlib.sha256(text.encode()).hexdigest()
    node.config_version += 1


def _v1alpha1(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The v1alpha1 document (the one without a kind), wherever it stands in the config."""
    return next((document for document in documents if "kind" not in document), None)


def _take_hostname(node: Node, documents: list[dict[str, Any]]) -> None:
    hostname = next((document for document in documents if document.get("kind") == "HostnameConfig"), None)
    if hostname and hostname.get("hostname"):
        node.hostname = str(hostname["hostname"])
    else:
        node.hostname = stable_hostname(node.address)


def install(store: Store, node: Node, documents: list[dict[str, Any]], text: str) -> None:
    """The first config on a maintenance node: install from machine.install.image, reboot, run.

    A config without a v1alpha1 document is valid but not complete for boot (Talos's ``CompleteForBoot``): the
    node takes what it can (its hostname) and stays in maintenance mode, waiting for a complete one.
    """
    v1alpha1 = _v1alpha1(documents)
    if v1alpha1 is None:
        _take_hostname(node, documents)
        node.event("apply-partial", reason="no v1alpha1 document: not complete for boot")
        return
    if node.faults.get("never-leaves-maintenance"):
        node.reboots += 1
        node.event("install-failed", reason="never-leaves-maintenance fault")
        return
    configure(node, documents, text)
    image = str(((v1alpha1.get("machine") or {}).get("install") or {}).get("image") or "")
    if image:
        try:
            node.schematic, node.talos_version = parse_installer(image)
        except ValueError:
            pass
        node.installer_image = image
    store.write_config(node.address, text)
    node.event("install", image=image or None, version=node.talos_version, schematic=node.schematic)
    if node.install_calls > 0:
        node.stage, node.pending = "installing", {"kind": "install", "calls": node.install_calls}
    else:
        finish(store, node)


def finish(store: Store, node: Node) -> None:
    """Complete the node's pending transition (install or reboot) now."""
    pending, node.pending = node.pending or {}, None
    if not pending.get("version") and node.next_boot:
        pending = {**pending, **node.next_boot}
    node.next_boot = None
    if pending.get("version"):
        node.talos_version = pending["version"]
        node.schematic = pending.get("schematic") or node.schematic
        node.installer_image = pending.get("image") or node.installer_image
    node.stage = "running"
    node.reboots += 1
    staged = store.config(node.address, staged=True)
    if staged is not None:
        store.write_config(node.address, staged)
        store.write_config(node.address, None, staged=True)
        configure(node, yamlio.load_documents(staged), staged)
        node.staged = False
    node.event("booted", version=node.talos_version, schematic=node.schematic)
    join_etcd(store, node)


def reboot(store: Store, node: Node, calls: int = 0, **pending: Any) -> None:
    """Reboot now (``calls`` 0) or after ``calls`` refused contacts; ``pending`` may carry a new version."""
    node.pending = {"kind": "reboot", "calls": calls, **pending}
    if calls > 0:
        node.stage = "rebooting"
    else:
        finish(store, node)


def wipe(store: Store, node: Node, power_off: bool) -> None:
    """After a reset: no config, no cluster; maintenance mode, or off.

    A control plane reset without leaving etcd first loses its etcd data: its member stops (etcd still lists it,
    as a dead member, in the real etcd), and when it was the last member left the cluster's etcd is gone, so the
    cluster can be bootstrapped again (``bootstrap --recover-from``, Talos's disaster recovery)."""
    if node.etcd_member and node.cluster_id:
        from . import control_plane  # on use: see the module docstring

        control_plane.wiped(store, node)
        cluster = store.cluster(node.cluster_id)
        if node.address in cluster.members:
            cluster.members.remove(node.address)
            if not cluster.members:
                cluster.bootstrapped, cluster.bootstrap_node = False, None
            cluster.revision += 1
            store.save_cluster(cluster)
    store.write_config(node.address, None)
    store.write_config(node.address, None, staged=True)
    for name in (
        "role",
        "cluster_id",
        "cluster_name",
        "cluster_endpoint",
        "ca_crt",
        "config_sha256",
        "kubernetes_version",
        "pending",
    ):
        setattr(node, name, None)
    node.etcd_member, node.staged = False, False
    node.hostname = stable_hostname(node.address)
    node.stage = "off" if power_off else "maintenance"
    node.reboots += 0 if power_off else 1
