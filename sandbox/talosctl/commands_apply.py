"""``apply-config``, ``bootstrap`` and ``kubeconfig``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..simulators.talos import canonical, configdiff, control_plane, lifecycle, yamlio
from ..simulators.talos.durations import format_duration
from ..simulators.talos.errors import NodeFailure, rpc
from ..simulators.talos.kubeconfig import admin_kubeconfig
from ..simulators.talos.state import Node
from . import talos_config
from .commands_etcd import read_snapshot
from .errors import TalosctlError
from .kubeconfig_merge import merge_kubeconfig
from .runtime import Runtime
from .transport import Session


def _read_config(rt: Runtime) -> talos_config.NodeCheck:
    """The config to send, patched as talosctl patches it (Talos's patcher), with Talos's verdict on it."""
    name = rt.flag("file")
    if not name:
        raise TalosctlError("no filename supplied for configuration")
    try:
        text = rt.path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise TalosctlError(
            f'failed to read configuration from "{name}": open {name}: {(error.strerror or str(error)).lower()}'
        ) from None
    if not text:
        raise TalosctlError("no configuration data read")
    return talos_config.node_check(text, list(rt.flag("config-patch") or []), rt.cwd)


class _Plan:
    """The config to apply, decoded once, and what Talos's checks say of it for each kind of node."""

    def __init__(self, check: talos_config.NodeCheck) -> None:
        self.check = check
        self.text = check.text
        self.decode_error: str | None = check.decode_error or None
        self.documents: list[dict[str, Any]] = []
        if self.decode_error:
            return
        try:
            self.documents = yamlio.load_documents(self.text)
        except yamlio.YAMLError as error:
            self.decode_error = str(error)

    def refusal(self, node: Node) -> str | None:
        """The node's InvalidArgument answer, in the order of Talos's apply-config handler; None to go on."""
        if self.decode_error:
            return rpc("InvalidArgument", self.decode_error)
        if node.configured and not self.check.v1alpha1:
            return rpc(
                "InvalidArgument",
                "the applied machine configuration doesn't contain v1alpha1 config, did "
                "you mean to patch the machine config instead?",
            )
        error, _warnings = self.check.verdict(talos_config.runtime_mode(node.platform), installed=node.configured)
        return rpc("InvalidArgument", error) if error else None

    def warnings(self, node: Node) -> str:
        """``WARNING: ...`` lines talosctl prints before the result (Talos's validation warnings)."""
        _error, found = self.check.verdict(talos_config.runtime_mode(node.platform), installed=node.configured)
        return "".join(f"WARNING: {warning}\n" for warning in found)


def _apply_one(rt: Runtime, session: Session, plan: _Plan, node: Node) -> str:
    session.admin(node)
    refusal = plan.refusal(node)
    if refusal:
        raise NodeFailure(node.address, refusal)
    store, maintenance = session.store, not node.configured
    current = store.config(node.address) or ""
    mode = rt.flag("mode")
    if maintenance and mode == "reboot":
        mode = "no-reboot"
    details, suffix = "Applied configuration with a reboot", ""
    problem = None if maintenance else configdiff.immediate_problem(yamlio.load_documents(current), plan.documents)
    if mode in ("try", "no-reboot"):
        if problem:
            raise NodeFailure(node.address, rpc("InvalidArgument", problem))
        details = "Applied configuration without a reboot"
    elif mode == "staged":
        details = "Staged configuration to be applied after the next reboot"
    elif mode == "auto":
        if problem:
            mode, suffix = "reboot", ": " + problem
        else:
            mode, details = "no-reboot", "Applied configuration without a reboot"
    if rt.flag("dry-run"):
        new_text = canonical.encode(plan.documents) if not plan.decode_error else plan.text
        changes = configdiff.diff(canonical.encode_text(current), new_text) or "No changes."
        return f"Dry run summary:\n{details} (skipped in dry-run).\nConfig diff:\n\n{changes}"
    warnings = plan.warnings(node)  # a dry run's answer carries none
    if maintenance:
        lifecycle.install(store, node, plan.documents, plan.text)
        return warnings + details + suffix
    if mode == "staged":
        store.write_config(node.address, plan.text, staged=True)
        node.staged = True
        node.event("apply", mode="staged")
        return warnings + details
    new_cluster = (next(d for d in plan.documents if "kind" not in d).get("cluster") or {}).get("id")
    if node.etcd_member and new_cluster and new_cluster != node.cluster_id:
        lifecycle.leave_etcd(store, node)
    store.write_config(node.address, plan.text)
    if mode != "try":  # the new config is the persisted one: a staged config is superseded
        store.write_config(node.address, None, staged=True)
        node.staged = False
    lifecycle.configure(node, plan.documents, plan.text)
    node.event("apply", mode=mode)
    if mode == "reboot":
        lifecycle.reboot(store, node)
    if mode == "try":
        details += (
            "\nThe config is applied in 'try' mode and will be automatically reverted back in "
            f"{format_duration(rt.flag('timeout'))}"
        )
    return warnings + details + suffix


def apply_config(rt: Runtime) -> None:
    plan = _Plan(_read_config(rt))
    insecure = bool(rt.flag("insecure"))
    with rt.session() as session:
        addresses = session.node_list(insecure)
        results = session.each(
            addresses,
            lambda node: _apply_one(rt, session, plan, node),
            "error applying new configuration: ",
            insecure=insecure,
        )
    for details in results:
        rt.info(details)


def _bootstrap_one(rt: Runtime, session: Session, node: Node, revision: int | None, snapshot: Path | None) -> None:
    session.admin(node)
    if node.stage != "running":
        raise NodeFailure(node.address, rpc("FailedPrecondition", "bootstrap is not available yet"))
    if node.role != "controlplane":
        raise NodeFailure(node.address, rpc("Unimplemented", "bootstrap is only available on control plane nodes"))
    cluster = session.store.cluster(str(node.cluster_id))
    if node.etcd_member or cluster.bootstrapped:
        raise NodeFailure(node.address, rpc("AlreadyExists", "etcd data directory is not empty"))
    control_plane.bootstrap(session.store, node, snapshot, rt.env)
    cluster.cluster_name = node.cluster_name or ""
    cluster.bootstrapped, cluster.bootstrap_node, cluster.members = True, node.address, [node.address]
    cluster.revision = max(cluster.revision, revision or 0) + 1
    cluster.kubernetes_version = node.kubernetes_version
    session.store.save_cluster(cluster)
    node.etcd_member = True
    node.event("bootstrap", recovered=revision is not None)
    for other in session.store.cluster_nodes(str(node.cluster_id)):
        peer = session.peer(other.address)
        if peer is not None and peer.address != node.address:
            lifecycle.join_etcd(session.store, peer)


def bootstrap(rt: Runtime) -> None:
    revision, snapshot = None, None
    if rt.flag("recover-from"):
        name = rt.flag("recover-from")
        info = read_snapshot(rt.path(name))
        rt.print(
            f'recovering from snapshot "{name}": hash {info["hash"]:08x}, revision {info["revision"]}, '
            f"total keys {info['keys']}, total size {info['size']}"
        )
        revision = int(info["revision"])
        snapshot = Path(rt.path(name)) if info.get("real") else None
    with rt.session() as session:
        addresses = session.node_list()
        if len(addresses) > 1:
            raise TalosctlError('command "bootstrap" is not supported with multiple nodes')
        session.each(
            addresses, lambda node: _bootstrap_one(rt, session, node, revision, snapshot), "error executing bootstrap: "
        )


def _kubeconfig_target(rt: Runtime, merge: bool) -> str:
    if rt.args:
        local = rt.args[0]
    elif merge:
        first = (rt.env.get("KUBECONFIG") or "").split(os.pathsep)[0]
        local = first or os.path.join(rt.env.get("HOME", os.path.expanduser("~")), ".kube", "config")
    else:
        local = str(rt.cwd)
    if local == "-":
        return local
    path = rt.path(os.path.normpath(local))
    return str(path / "kubeconfig") if path.is_dir() else str(path)


def kubeconfig(rt: Runtime) -> None:
    merge, force = bool(rt.flag("merge")), bool(rt.flag("force"))
    with rt.session() as session:
        addresses = session.node_list()
        if len(addresses) > 1:
            raise TalosctlError('command "kubeconfig" is not supported with multiple nodes')
        target = _kubeconfig_target(rt, merge)
        exists = target != "-" and os.path.exists(target)
        if exists and not (force or merge):
            raise TalosctlError(f'kubeconfig file already exists, use --force to overwrite: "{target}"')
        merge = merge and exists

        def fetch(node: Node) -> str:
            if node.role != "controlplane":
                raise NodeFailure(
                    node.address, rpc("Unimplemented", "kubeconfig is only available on control plane nodes")
                )
            cluster = session.store.cluster(str(node.cluster_id))
            if not cluster.bootstrapped:
                raise NodeFailure(
                    node.address,
                    rpc("Unavailable", "admin kubeconfig is not ready yet: the cluster is not bootstrapped"),
                )
            return admin_kubeconfig(session.store.config(node.address) or "")

        data = session.each(addresses, fetch, "error copying: ")[0]
    if merge:
        for line in merge_kubeconfig(target, data, force, rt.flag("force-context-name") or None):
            rt.print(line)
        return
    if target == "-":
        rt.out.write(data)
        return
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(data)
