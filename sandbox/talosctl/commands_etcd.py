"""``etcd members``, ``etcd status``, ``etcd snapshot`` and ``etcd leave``.

The etcd "database" is the cluster record (members, revision, Kubernetes version). A snapshot is a deterministic,
clearly labelled text payload followed, as a real etcd snapshot is, by the SHA-256 of what precedes it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any

from ..kube.etcd import EtcdError, snapshot_status
from ..simulators.talos import control_plane, lifecycle
from ..simulators.talos.errors import NodeFailure, rpc
from ..simulators.talos.state import Cluster, Node, Store
from .errors import TalosctlError
from .rendering import tabulate
from .runtime import Runtime
from .transport import Session

SNAPSHOT_MAGIC = b"# talosforge sandbox etcd snapshot v1 (simulated: not a bbolt database)\n"
NOT_RUNNING = "etcd is not running on this node (it is not a member of a bootstrapped etcd cluster)"


def member_id(cluster_id: str, address: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{cluster_id}/{address}".encode()).digest()[:8], "big")


def humanize_bytes(size: int) -> str:
    """go-humanize's Bytes (SI units): ``4.2 MB``."""
    if size < 10:
        return f"{size} B"
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    exponent = min(int(math.floor(math.log(size) / math.log(1000))), len(units) - 1)
    value = math.floor(size / 1000**exponent * 10 + 0.5) / 10
    return f"{value:.0f} {units[exponent]}" if value >= 10 else f"{value:.1f} {units[exponent]}"


def _member_of(session: Session, node: Node) -> Cluster:
    if node.role != "controlplane":
        raise NodeFailure(node.address, rpc("Unimplemented", "etcd is only available on control plane nodes"))
    cluster = session.store.cluster(str(node.cluster_id))
    if not cluster.bootstrapped or node.address not in cluster.members:
        raise NodeFailure(node.address, rpc("Unavailable", NOT_RUNNING))
    return cluster


def _single(session: Session, command: str) -> list[str]:
    addresses = session.node_list()
    if len(addresses) > 1:
        raise TalosctlError(f'command "{command}" is not supported with multiple nodes')
    return addresses


def members(rt: Runtime) -> None:
    rows = [["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"]]
    with rt.session() as session:

        def collect(node: Node) -> None:
            cluster = _member_of(session, node)
            real = control_plane.cluster_of(session.store, node)
            if real is not None and real.served():
                for item in _real(node, real.members):
                    rows.append(
                        [
                            node.address,
                            f"{item['id']:016x}",
                            item["name"],
                            ",".join(item["peer_urls"]),
                            ",".join(item["client_urls"]),
                            str(item["learner"]).lower(),
                        ]
                    )
                return
            for address in cluster.members:
                member = session.peer(address)
                hostname = member.hostname if member else address
                rows.append(
                    [
                        node.address,
                        f"{member_id(cluster.cluster_id, address):016x}",
                        hostname,
                        f"https://{address}:2380",
                        f"https://{address}:2379",
                        "false",
                    ]
                )

        session.each(session.node_list(), collect, "error getting members: ", warn=rt.info)
    rt.out.write(tabulate(rows))


def _database_size(cluster: Cluster) -> int:
    return 4_194_304 + 4096 * cluster.revision


def status(rt: Runtime) -> None:
    rows = [
        [
            "NODE",
            "MEMBER",
            "DB SIZE",
            "IN USE",
            "LEADER",
            "RAFT INDEX",
            "RAFT TERM",
            "RAFT APPLIED INDEX",
            "LEARNER",
            "PROTOCOL",
            "STORAGE",
            "ERRORS",
        ]
    ]
    with rt.session() as session:

        def collect(node: Node) -> None:
            cluster = _member_of(session, node)
            real = control_plane.cluster_of(session.store, node)
            if real is not None and real.served():
                member = next((m for m in real.etcd.running() if m.address == node.address), None)
                if member is None:
                    raise NodeFailure(node.address, rpc("Unavailable", NOT_RUNNING))
                found = _real(node, lambda: real.etcd.status(member))
                size, in_use = found["db_size"], found["db_size_in_use"]
                rows.append(
                    [
                        node.address,
                        f"{found['id']:016x}",
                        humanize_bytes(size),
                        f"{humanize_bytes(in_use)} ({in_use / size * 100:.2f}%)" if size else "0 B (0.00%)",
                        f"{found['leader']:016x}",
                        str(found["raft_index"]),
                        str(found["raft_term"]),
                        str(found["raft_applied_index"]),
                        str(found["learner"]).lower(),
                        found["version"],
                        found["storage_version"],
                        ", ".join(found["errors"]),
                    ]
                )
                return
            size = _database_size(cluster)
            in_use = size * 3 // 4
            leader = cluster.bootstrap_node if cluster.bootstrap_node in cluster.members else cluster.members[0]
            rows.append(
                [
                    node.address,
                    f"{member_id(cluster.cluster_id, node.address):016x}",
                    humanize_bytes(size),
                    f"{humanize_bytes(in_use)} ({in_use / size * 100:.2f}%)",
                    f"{member_id(cluster.cluster_id, str(leader)):016x}",
                    str(1000 + cluster.revision * 7),
                    str(1 + len(cluster.members)),
                    str(1000 + cluster.revision * 7),
                    "false",
                    "3.6.0",
                    "3.6.0",
                    "",
                ]
            )

        session.each(session.node_list(), collect, "error getting status: ")
    rt.out.write(tabulate(rows))


def snapshot_payload(store: Store, cluster: Cluster) -> bytes:
    body = {
        "cluster_id": cluster.cluster_id,
        "cluster_name": cluster.cluster_name,
        "revision": cluster.revision,
        "kubernetes_version": cluster.kubernetes_version,
        "members": [
            {"address": address, "id": f"{member_id(cluster.cluster_id, address):016x}"} for address in cluster.members
        ],
        "total_keys": 200 + 17 * len(store.cluster_nodes(cluster.cluster_id)) + cluster.revision,
    }
    return SNAPSHOT_MAGIC + json.dumps(body, sort_keys=True, indent=1).encode() + b"\n"


def read_snapshot(path: Path) -> dict[str, Any]:
    """hash, revision, keys and size of a snapshot file the stand-in wrote; TalosctlError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TalosctlError(f"open {path}: {(error.strerror or str(error)).lower()}") from None
    payload, trailer = data[:-32], data[-32:]
    if not payload.startswith(SNAPSHOT_MAGIC):
        try:
            return {**snapshot_status(path), "real": True}
        except EtcdError as error:
            raise TalosctlError(f"snapshot file {path} is not an etcd snapshot: {error}") from None
    if hashlib.sha256(payload).digest() != trailer:
        raise TalosctlError(
            f"snapshot file {path} has no matching sha256 trailer: not a snapshot written by "
            "the talosforge sandbox stand-in (or corrupted)"
        )
    body = json.loads(payload[len(SNAPSHOT_MAGIC) :])
    return {
        "hash": zlib.crc32(payload),
        "revision": body["revision"],
        "keys": body["total_keys"],
        "size": len(data),
        "body": body,
    }


def snapshot(rt: Runtime) -> None:
    target = rt.path(rt.args[0])
    with rt.session() as session:
        addresses = _single(session, "etcd snapshot")
        clusters = session.each(addresses, lambda node: _member_of(session, node), "error reading file: ")
        node = session.store.node(addresses[0])
        real = control_plane.cluster_of(session.store, node) if node else None
        if real is not None and real.served():
            _real_snapshot(rt, real, addresses[0], Path(target))
            return
        payload = snapshot_payload(session.store, clusters[0])
    data = payload + hashlib.sha256(payload).digest()
    partial = Path(f"{target}.part")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(partial, target)
    except OSError as error:
        raise TalosctlError(f"error creating temporary file: {error}") from None
    _report(rt, target)


def _real(node: Node, read: Any) -> Any:
    try:
        return read()
    except EtcdError as error:
        raise NodeFailure(node.address, rpc("Unavailable", str(error))) from None


def _real_snapshot(rt: Runtime, real: Any, address: str, target: Path) -> None:
    """A real etcd snapshot of the member on that node (etcdctl snapshot save), reported as talosctl reports it."""
    member = next((m for m in real.etcd.running() if m.address == address), None)
    if member is None:
        raise TalosctlError(f"error reading file: 1 error occurred:\n\t* {address}: {rpc('Unavailable', NOT_RUNNING)}")
    partial = Path(f"{target}.part")
    try:
        real.etcd.snapshot(partial, member)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except (EtcdError, OSError) as error:
        partial.unlink(missing_ok=True)
        raise TalosctlError(f"error reading file: {error}") from None
    _report(rt, target)


def _report(rt: Runtime, target: Path) -> None:
    """What talosctl prints after a snapshot, simulated or real, read back from the file written."""
    info = read_snapshot(target)
    rt.print(f'etcd snapshot saved to "{rt.args[0]}" ({target.stat().st_size} bytes)')
    rt.print(
        f"snapshot info: hash {info['hash']:08x}, revision {info['revision']}, total keys {info['keys']}, "
        f"total size {info['size']}"
    )


def leave(rt: Runtime) -> None:
    with rt.session() as session:
        addresses = _single(session, "etcd leave")

        def work(node: Node) -> None:
            session.admin(node)
            cluster = _member_of(session, node)
            if len(cluster.members) == 1:
                raise NodeFailure(
                    node.address,
                    rpc(
                        "Unknown",
                        "failed to leave cluster: etcdserver: "
                        "re-configuration failed due to not enough started "
                        "members",
                    ),
                )
            lifecycle.leave_etcd(session.store, node)
            node.event("etcd-leave")

        session.each(addresses, work, "")
