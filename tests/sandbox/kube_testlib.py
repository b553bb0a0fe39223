"""A sandbox cluster with its real control plane, made the way the collection makes one: through talosctl.

``LiveCluster.create(root)`` picks a free loopback /24, adds simulated Talos nodes there, generates secrets and
configs, applies them, bootstraps and fetches the admin kubeconfig with the talosctl stand-in; bootstrapping
starts the cluster's real etcd members and kube-apiserver (sandbox/kube). ``close()`` stops them.
"""

from __future__ import annotations

import json
import random
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from talosctl_testlib import FACTORY_IMAGE, VANILLA, Sandbox

from sandbox.gotools import binary
from sandbox.kube.cluster import SandboxCluster
from sandbox.kube.controllers import ENABLE_ENV
from sandbox.simulators.talos.nodes import TalosNodes

PORTS = (6443, 2379, 2380)
CRDS = Path(__file__).resolve().parents[1] / "contracts" / "crds"


def free_subnet() -> str:
    """``127.A.B`` with nothing listening on the ports a cluster uses at .10 to .13 (bounded tries)."""
    for _attempt in range(50):
        prefix = f"127.{random.randint(100, 199)}.{random.randint(1, 254)}"
        if all(_free(f"{prefix}.{host}", port) for host in (10, 11, 12, 13) for port in PORTS):
            return prefix
    raise RuntimeError("no free loopback /24 found in 50 tries")


def _free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


@dataclass
class LiveCluster:
    sandbox: Sandbox
    prefix: str
    control_planes: list[str]
    workers: list[str]

    @property
    def endpoint(self) -> str:
        return f"https://{self.prefix}.10:6443"

    @property
    def kubeconfig(self) -> Path:
        return self.sandbox.work / "kubeconfig"

    @property
    def secrets(self) -> dict[str, Any]:
        return yaml.safe_load((self.sandbox.work / "secrets.yaml").read_text())

    def mtls(self, node: str) -> list[str]:
        return self.sandbox.mtls(node, node)

    @classmethod
    def create(
        cls, root: Path, control_planes: int = 3, workers: int = 1, name: str = "live", controllers: bool = False
    ) -> LiveCluster:
        """``controllers``: the second tier too (kube-controller-manager, kube-scheduler, kwok)."""
        programs = ["etcd", "etcdctl", "etcdutl", "kube-apiserver", "talos-config"]
        if controllers:
            programs += ["kube-controller-manager", "kube-scheduler", "kwok"]
        for program in programs:
            binary(program)  # MissingProgram says how to build it: a missing program fails, never skips
        sandbox = Sandbox(root)
        if controllers:
            sandbox.env[ENABLE_ENV] = "1"
        prefix = free_subnet()
        cps = [f"{prefix}.{11 + index}" for index in range(control_planes)]
        wks = [f"{prefix}.{21 + index}" for index in range(workers)]
        TalosNodes(sandbox.state).add(*cps, *wks)
        sandbox.ok("gen", "secrets", "-o", "secrets.yaml")
        sandbox.ok(
            "gen",
            "config",
            name,
            f"https://{prefix}.10:6443",
            "--with-secrets",
            "secrets.yaml",
            "--install-image",
            FACTORY_IMAGE.format(schematic=VANILLA, version="v1.13.9"),
            "-o",
            "out",
            "--with-docs=false",
            "--with-examples=false",
        )
        for address in cps:
            sandbox.ok("apply-config", "--insecure", "-n", address, "-e", address, "--file", "out/controlplane.yaml")
        for address in wks:
            sandbox.ok("apply-config", "--insecure", "-n", address, "-e", address, "--file", "out/worker.yaml")
        cluster = cls(sandbox, prefix, cps, wks)
        sandbox.ok("bootstrap", *cluster.mtls(cps[0]))
        sandbox.ok("kubeconfig", "kubeconfig", *cluster.mtls(cps[0]))
        cluster.real().apiserver.wait_ready()
        return cluster

    def real(self) -> SandboxCluster:
        found = SandboxCluster.all(self.sandbox.state)
        assert len(found) == 1, f"expected one served cluster, found {[c.name for c in found]}"
        return found[0]

    def api(self) -> Any:
        """A ``kubernetes`` ApiClient from the admin kubeconfig talosctl wrote (what talos_kubeconfig writes)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def nodes(self) -> dict[str, dict[str, Any]]:
        from kubernetes import client

        items = client.CoreV1Api(self.api()).list_node().items
        return {item.metadata.name: item.to_dict() for item in items}

    def audit(self) -> list[dict[str, Any]]:
        path = self.real().apiserver.audit_log
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def close(self) -> None:
        for cluster in SandboxCluster.all(self.sandbox.state):
            cluster.stop()


def ready(node: dict[str, Any]) -> str:
    return next(c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready")


def cni_daemonset() -> dict[str, Any]:
    """A DaemonSet named as Cilium's agent is (kube-system/cilium): to the sandbox, a CNI being installed."""
    labels = {"k8s-app": "cilium"}
    return {
        "metadata": {"name": "cilium", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "hostNetwork": True,
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.20.0"}],
                },
            },
        },
    }


def install_crds(live: LiveCluster, *files: str) -> None:
    """Create the CRDs of ``files`` (under tests/contracts/crds) and wait until each is Established."""
    from kubernetes import client

    extensions = client.ApiextensionsV1Api(live.api())
    for name in files:
        body = yaml.safe_load((CRDS / name).read_text())
        extensions.create_custom_resource_definition(body)

        def established(crd: str = body["metadata"]["name"]) -> bool:
            conditions = extensions.read_custom_resource_definition(crd).status.conditions or []
            return any(c.type == "Established" and c.status == "True" for c in conditions)

        wait_for(established, 30, f"{name} established")
