"""``health``: Talos' cluster checks, in Talos' order and words, over the simulated nodes.

Progress lines go to stderr as ``waiting for <check>: ...`` then ``waiting for <check>: OK``. A check that does
not pass is polled while a node it waits for is still installing or rebooting (each poll uses up one pending
call, at most one poll per 10 s of ``--wait-timeout``, at most 60); if it still fails, the last line names the
check and the nodes (``waiting for etcd to be healthy: 1 error occurred: * 10.0.0.2: ...``) and the command fails
with ``context deadline exceeded``, as the real one does when its wait times out (without the wait).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..simulators.talos.errors import NodeFailure, rpc
from ..simulators.talos.state import Cluster, Node
from .errors import TalosctlError, multierror
from .runtime import Runtime
from .transport import Session


@dataclass
class _Cluster:
    session: Session
    checker: Node
    controlplanes: list[str]
    workers: list[str]
    nodes: dict[str, Node] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def refresh(self) -> None:
        self.nodes, self.failures = {}, {}
        for address in [*self.controlplanes, *self.workers]:
            try:
                self.nodes[address] = self.session.via(self.checker, address)
            except NodeFailure as failure:
                self.failures[address] = failure.message

    def etcd(self) -> Cluster:
        return self.session.store.cluster(str(self.checker.cluster_id))

    def reach(self, addresses: list[str]) -> list[str]:
        return [f"{address}: {self.failures[address]}" for address in addresses if address in self.failures]


def _etcd_healthy(c: _Cluster) -> list[str]:
    problems = c.reach(c.controlplanes)
    members = c.etcd().members if c.etcd().bootstrapped else []
    for address in c.controlplanes:
        if address in c.nodes and address not in members:
            problems.append(
                f'{address}: service "etcd" not in expected state "Running": current state [Preparing] '
                "Running pre state"
            )
    return problems


def _etcd_members_are_controlplanes(c: _Cluster) -> list[str]:
    members = c.etcd().members
    if set(members) <= set(c.controlplanes):
        return []
    quoted = "[" + " ".join(f'"{m}"' for m in members) + "]"
    expected = "[" + " ".join(f'"{m}"' for m in c.controlplanes) + "]"
    return [f"etcd member ips {quoted} are not subset of control plane node ips {expected}"]


def _apid_ready(c: _Cluster) -> list[str]:
    return c.reach([*c.controlplanes, *c.workers])


def _booted(c: _Cluster) -> list[str]:
    problems = c.reach([*c.controlplanes, *c.workers])
    for address, node in c.nodes.items():
        if node.stage != "running":
            problems.append(f"{address}: machine stage is {node.stage!r}, not 'running'")
    return problems


def _k8s_nodes_report(c: _Cluster) -> list[str]:
    if not c.etcd().bootstrapped:
        return ["error building kubernetes client: the cluster is not bootstrapped"]
    cluster_id = c.checker.cluster_id
    missing = [
        address
        for address in [*c.controlplanes, *c.workers]
        if address not in c.nodes or c.nodes[address].cluster_id != cluster_id
    ]
    if missing:
        return [f"expected nodes with IPs {missing} to be registered in Kubernetes, but they are not"]
    return []


def _ok(_cluster: _Cluster) -> list[str]:
    return []


CHECKS: tuple[tuple[str, Callable[[_Cluster], list[str]]], ...] = (
    ("etcd to be healthy", _etcd_healthy),
    ("etcd members to be consistent across nodes", _ok),
    ("etcd members to be control plane nodes", _etcd_members_are_controlplanes),
    ("apid to be ready", _apid_ready),
    ("all nodes memory sizes", _ok),
    ("all nodes disk sizes", _ok),
    ("no diagnostics", _ok),
    ("kubelet to be healthy", _apid_ready),
    ("all nodes to finish boot sequence", _booted),
    ("all k8s nodes to report", _k8s_nodes_report),
    ("all control plane static pods to be running", _ok),
    ("all control plane components to be ready", _ok),
    ("all k8s nodes to report ready", _ok),
    ("kube-proxy to report ready", _ok),
    ("coredns to report ready", _ok),
    ("all k8s nodes to report schedulable", _ok),
)


def _advance(c: _Cluster) -> bool:
    """Let time pass for the nodes still installing or rebooting; False when nothing is pending."""
    moved = False
    for address in [*c.controlplanes, *c.workers]:
        node = c.session.peer(address)
        if node is not None and node.pending and not node.faults.get("unreachable"):
            c.session.tick(node)
            moved = True
    return moved


def _run_checks(rt: Runtime, c: _Cluster, polls: int) -> None:
    for description, check in CHECKS:
        rt.info(f"waiting for {description}: ...")
        for _poll in range(polls + 1):
            c.refresh()
            problems = check(c)
            if not problems or not _advance(c):
                break
        if problems:
            text = problems[0] if len(problems) == 1 and "error occurred" in problems[0] else multierror(problems)
            rt.info(f"waiting for {description}: {text.rstrip()}")
            raise TalosctlError(rt.notes.get("timeout_error", "context deadline exceeded"))
        rt.info(f"waiting for {description}: OK")


def _split(session: Session, rt: Runtime, checker: Node) -> tuple[list[str], list[str], bool]:
    controlplanes = [*([rt.flag("init-node")] if rt.flag("init-node") else []), *rt.flag("control-plane-nodes")]
    workers = list(rt.flag("worker-nodes"))
    if controlplanes or workers:
        return controlplanes, workers, False
    members = session.store.cluster_nodes(str(checker.cluster_id))
    return (
        [n.address for n in members if n.role == "controlplane"],
        [n.address for n in members if n.role != "controlplane"],
        True,
    )


def health(rt: Runtime) -> None:
    if rt.flag("run-e2e"):
        raise TalosctlError("--run-e2e is not implemented by the talosforge sandbox stand-in")
    polls = max(1, min(60, int(rt.flag("wait-timeout") // 10)))
    with rt.session() as session:
        if rt.flag("server"):
            addresses = session.node_list()
            if len(addresses) > 1:
                raise TalosctlError('command "health" is not supported with multiple nodes')

            try:
                endpoint = session.endpoint()
            except NodeFailure as failure:
                raise TalosctlError(failure.message) from None
            try:  # a streamed answer: apid puts the node's error in a message, which talosctl prints so
                checker = session.via(endpoint, addresses[0])
            except NodeFailure as failure:
                raise TalosctlError("healthcheck error: " + failure.message) from None
            if checker.role != "controlplane":
                raise TalosctlError(
                    "healthcheck error: "
                    + rpc("Unimplemented", "cluster health check is only available on control plane nodes")
                )
            rt.notes["timeout_error"] = "healthcheck error: " + rpc("DeadlineExceeded", "context deadline exceeded")
        else:
            try:
                checker = session.endpoint()
            except NodeFailure as failure:
                raise TalosctlError(failure.message) from None
        controlplanes, workers, _discovered = _split(session, rt, checker)
        if rt.flag("server"):
            rt.info("discovered nodes: [" + " ".join(f'"{a}"' for a in [*controlplanes, *workers]) + "]")
        _run_checks(rt, _Cluster(session, checker, controlplanes, workers), polls)
