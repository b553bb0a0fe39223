"""``upgrade``, ``upgrade-k8s`` and ``reset``: the day-two operations."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from ..paths import REPO_ROOT
from ..simulators.talos import lifecycle, yamlio
from ..simulators.talos.errors import NodeFailure, rpc
from ..simulators.talos.state import Node, parse_installer
from . import errors
from .errors import TalosctlError
from .runtime import Runtime
from .transport import Session

VERSIONS_JSON = REPO_ROOT / "sandbox" / "simulators" / "image_factory" / "data" / "versions.json"
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
# The images upgrade-k8s moves to the new version (the repositories Talos's generated configs use).
KUBELET_IMAGE = "ghcr.io/siderolabs/kubelet"
CONTROL_PLANE_IMAGES = {
    "apiServer": "registry.k8s.io/kube-apiserver",
    "controllerManager": "registry.k8s.io/kube-controller-manager",
    "proxy": "registry.k8s.io/kube-proxy",
    "scheduler": "registry.k8s.io/kube-scheduler",
}
LAST_MEMBER = "failed to leave etcd cluster: etcdserver: re-configuration failed due to not enough started members"


@functools.lru_cache(maxsize=1)
def known_versions() -> frozenset[str]:
    """The Talos releases that exist (the Image Factory simulator's list)."""
    data = json.loads(Path(VERSIONS_JSON).read_text(encoding="utf-8"))
    return frozenset(data.get("published", [])) - frozenset(data.get("broken", []))


def _pull(rt: Runtime, session: Session, node: Node, target: str) -> None:
    session.admin(node)
    if node.stage != "running":
        raise NodeFailure(node.address, rpc("FailedPrecondition", f"machine is not ready: stage {node.stage}"))
    try:
        version = parse_installer(target)[1]
    except ValueError:
        version = ""
    if version not in known_versions():
        raise NodeFailure(node.address, rpc("NotFound", f'failed to pull image "{target}": {target}: not found'))
    rt.info(f"{node.address}: pulling image {target}: done")


def _upgrade_one(rt: Runtime, session: Session, node: Node, target: str) -> str:
    schematic, version = parse_installer(target)
    rt.info(f"{node.address}: upgrade completed")
    node.event("upgrade", image=target, version=version, schematic=schematic)
    new = {"version": version, "schematic": schematic, "image": target}
    if rt.flag("no-reboot"):
        node.next_boot = new
        return node.address
    calls = node.faults.pop("reboot-during-upgrade", None)
    if calls is not None and int(calls) > 0:
        lifecycle.reboot(session.store, node, int(calls), **new)
        raise NodeFailure(node.address, errors.eof())
    lifecycle.reboot(session.store, node, 0, **new)
    return node.address


def upgrade(rt: Runtime) -> None:
    target = rt.flag("image")
    wait = bool(rt.flag("wait") or rt.flag("debug") or (rt.flag("drain") and not rt.flag("no-reboot")))
    if rt.flag("legacy"):
        rt.info(
            "WARNING: Forcing use of legacy upgrade method. This flag is deprecated and will be removed in Talos 1.18."
        )
    with rt.session() as session:
        addresses = session.node_list()
        session.each(addresses, lambda node: _pull(rt, session, node, target), "error pulling upgrade image: ")
        done = session.each(addresses, lambda node: _upgrade_one(rt, session, node, target), "error during upgrade: ")
    if wait and not rt.flag("no-reboot"):
        rt.info(f"watching nodes: [{' '.join(done)}]")
        for address in done:
            rt.info(f"    * {address}: post check passed")


def _semver(text: str) -> tuple[int, int, int]:
    match = _SEMVER.match(text.strip())
    if not match:
        raise TalosctlError(f'error creating upgrade path error parsing version "{text}"')
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def image(repository: str, kubernetes_version: str) -> str:
    return f"{repository}:v{kubernetes_version.lstrip('v')}"


def _patch_images(text: str, version: str, controlplane: bool) -> str:
    documents = yamlio.load_documents(text)
    config = next(document for document in documents if "kind" not in document)
    machine, cluster = config.setdefault("machine", {}), config.setdefault("cluster", {})
    machine.setdefault("kubelet", {})["image"] = image(KUBELET_IMAGE, version)
    if controlplane:
        for name, repository in CONTROL_PLANE_IMAGES.items():
            cluster.setdefault(name, {})["image"] = image(repository, version)
    return yamlio.dump_documents(documents)


def _log_component(rt: Runtime, component: str, addresses: list[str], version: str, dry: bool) -> None:
    rt.print(
        f'updating "{component}" to version "{version}"'
        if component != "kube-proxy"
        else f'updating kube-proxy to version "{version}"'
    )
    for address in addresses:
        rt.print(f' > "{address}": starting update')
        if dry:
            rt.print(" > skipped in dry-run")
            continue
        rt.print(f' > "{address}": machine configuration patched')
        if component != "kube-proxy":
            rt.print(
                f' > "{address}": waiting for {component} pod update'
                if component != "kubelet"
                else f' > "{address}": waiting for kubelet restart'
            )
            rt.print(f' < "{address}": successfully updated')


def upgrade_k8s(rt: Runtime) -> None:
    to_version = str(rt.flag("to")).lstrip("v")
    with rt.session() as session:
        addresses = session.node_list()
        if len(addresses) > 1:
            raise TalosctlError('command "upgrade-k8s" is not supported with multiple nodes')
        node = session.each(addresses, lambda n: n, "")[0]
        cluster = session.store.cluster(str(node.cluster_id))
        if node.role != "controlplane" or not cluster.bootstrapped:
            raise TalosctlError(
                "error detecting the lowest Kubernetes version error building kubernetes client: "
                "the cluster is not bootstrapped"
            )
        members = session.store.cluster_nodes(str(node.cluster_id))
        from_version = rt.flag("from") or min((m.kubernetes_version or "0.0.0" for m in members), key=_semver)
        if not rt.flag("from"):
            rt.print(f"automatically detected the lowest Kubernetes version {from_version}")
        old, new = _semver(from_version), _semver(to_version)
        if new < old or new[0] != old[0] or new[1] - old[1] > 1:
            raise TalosctlError(
                f"unsupported upgrade path {old[0]}.{old[1]}->{new[0]}.{new[1]} "
                f'(from "{from_version.lstrip("v")}" to "{to_version}")'
            )
        controlplanes = [m.address for m in members if m.role == "controlplane"]
        workers = [m.address for m in members if m.role != "controlplane"]
        rt.print("discovered controlplane nodes [" + " ".join(f'"{a}"' for a in controlplanes) + "]")
        if workers:
            rt.print("discovered worker nodes [" + " ".join(f'"{a}"' for a in workers) + "]")
        dry = bool(rt.flag("dry-run"))
        for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
            _log_component(rt, component, controlplanes, to_version, dry)
        if rt.flag("upgrade-kubelet"):
            _log_component(rt, "kubelet", [*controlplanes, *workers], to_version, dry)
        rt.print("updating manifests")
        rt.print(" > skipped in dry-run" if dry else " > no changes to apply (sandbox stand-in)")
        if dry:
            return
        for member in members:
            peer = session.peer(member.address)
            text = session.store.config(member.address)
            if peer is None or text is None:
                continue
            patched = _patch_images(text, to_version, peer.role == "controlplane")
            session.store.write_config(member.address, patched)
            peer.kubernetes_version = to_version
            peer.config_sha256 = hashlib.sha256(patched.encode()).hexdigest()
            peer.config_version += 1
            peer.event("upgrade-k8s", version=to_version)
        cluster.kubernetes_version = to_version
        cluster.revision += 1
        session.store.save_cluster(cluster)


def _reset_one(rt: Runtime, session: Session, node: Node) -> str:
    session.admin(node)
    graceful, labels = bool(rt.flag("graceful")), [label.upper() for label in rt.flag("system-labels-to-wipe")]
    if node.configured and graceful and node.etcd_member and node.cluster_id:
        if session.store.cluster(node.cluster_id).members == [node.address]:
            raise NodeFailure(node.address, rpc("FailedPrecondition", LAST_MEMBER))
        lifecycle.leave_etcd(session.store, node)
    node.event("reset", graceful=graceful, reboot=bool(rt.flag("reboot")), wipe_mode=rt.flag("wipe-mode"))
    if rt.flag("wipe-mode") == "user-disks" and not labels:
        lifecycle.reboot(session.store, node)
        return node.address
    if labels and "STATE" not in labels:
        if "EPHEMERAL" in labels:
            node.etcd_member = False
        lifecycle.reboot(session.store, node)
        return node.address
    lifecycle.wipe(session.store, node, power_off=not rt.flag("reboot"))
    return node.address


def reset(rt: Runtime) -> None:
    insecure = bool(rt.flag("insecure"))
    wait = bool(rt.flag("wait") or rt.flag("debug"))
    if wait and insecure:
        raise TalosctlError("cannot use --wait and --insecure together")
    with rt.session() as session:
        addresses = session.node_list(insecure)
        done = session.each(
            addresses, lambda node: _reset_one(rt, session, node), "error executing reset: ", insecure=insecure
        )
    if wait:
        rt.info(f"watching nodes: [{' '.join(done)}]")
        for address in done:
            rt.info(f"    * {address}: post check passed")
