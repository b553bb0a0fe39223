"""Where the simulated Talos nodes meet the sandbox's real control plane (sandbox/kube).

A cluster whose API endpoint is a loopback address is served for real: ``bootstrap`` starts its first etcd
member and kube-apiserver, a control plane that joins etcd adds a real member, one that leaves removes it, and
``etcd members|status|snapshot`` and ``bootstrap --recover-from`` read and write the real etcd. A cluster at any
other address (the stand-in's own tests use documentation addresses that nothing can listen on) keeps the simulated
etcd record of state.py and has no Kubernetes API.
"""

from __future__ import annotations

from pathlib import Path

from ...kube import controllers
from ...kube.cluster import SandboxCluster, for_node_config
from ...kube.etcd import EtcdError
from .errors import NodeFailure, rpc
from .state import Node, Store


def cluster_of(store: Store, node: Node) -> SandboxCluster | None:
    """The real control plane of the node's cluster, or None when the cluster is not served for real."""
    text = store.config(node.address)
    return for_node_config(store.state_dir, text) if text else None


def _failure(node: Node, error: Exception) -> NodeFailure:
    return NodeFailure(node.address, rpc("Unknown", str(error)))


def bootstrap(store: Store, node: Node, snapshot: Path | None, env: dict[str, str]) -> None:
    cluster = cluster_of(store, node)
    if cluster is None:
        return
    try:
        text = store.config(node.address) or ""
        cluster.bootstrap(text, node.address, node.hostname, snapshot, controllers.enabled(env))
    except (EtcdError, OSError, ValueError) as error:
        raise _failure(node, error) from None


def join(store: Store, node: Node) -> None:
    cluster = cluster_of(store, node)
    if cluster is None or not cluster.served():
        return
    try:
        cluster.join(store.config(node.address) or "", node.address, node.hostname)
    except (EtcdError, OSError, ValueError) as error:
        raise _failure(node, error) from None


def leave(store: Store, node: Node, last: bool) -> None:
    cluster = cluster_of(store, node)
    if cluster is None:
        return
    try:
        if last:
            cluster.remove()
        else:
            cluster.leave(node.address)
    except (EtcdError, OSError, ValueError) as error:
        raise _failure(node, error) from None


def wiped(store: Store, node: Node) -> None:
    """The node's disks were wiped without leaving etcd: its member stops and loses its data (it stays in etcd's
    member list, as a dead member would); without a member left, the whole control plane goes."""
    cluster = cluster_of(store, node)
    if cluster is None:
        return
    cluster.wipe_member(node.address)
    if not cluster.served():
        cluster.remove()
