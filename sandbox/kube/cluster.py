"""The real control plane of one sandbox cluster: etcd members, kube-apiserver and the kubelet stand-in.

The talosctl stand-in calls this as the simulated Talos nodes act: ``bootstrap`` starts the first etcd member and
kube-apiserver, a control plane that joins adds its etcd member, one that leaves removes it, a reset node's Node
object goes away. Everything listens where the real cluster would: etcd at each control plane's address
(2379/2380), kube-apiserver at the cluster's API endpoint, so the endpoint must be a loopback address (the only
addresses the sandbox may listen on); a cluster whose endpoint is not loopback is not served (see
:func:`servable`). State lives in ``<state>/kube/<cluster name>-<hash of cluster id>/``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..paths import REPO_ROOT, log_dir
from . import certs, flux, powerdns_runner
from .apiserver import ApiServer
from .controllers import Controllers
from .etcd import EtcdCluster, EtcdError, Member
from .machine_config import v1alpha1
from .processes import Daemon, environment


def endpoint_of(config: dict[str, Any]) -> tuple[str, int]:
    url = urlsplit(str(((config.get("cluster") or {}).get("controlPlane") or {}).get("endpoint") or ""))
    return url.hostname or "", url.port or 443


def servable(config: dict[str, Any]) -> bool:
    """Whether the sandbox can serve this cluster's API: its endpoint is a loopback address."""
    host = endpoint_of(config)[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass
class Status:
    name: str
    url: str | None
    apiserver_pid: int | None
    ready: bool
    etcd_members: list[str]
    objects: int | None
    controllers: list[str]
    flux_operator: bool = False  # flux-operator's stand-in loop (sandbox/kube/flux_operator.py) runs

    def line(self) -> str:
        state = "up" if self.ready else ("starting" if self.apiserver_pid else "down")
        objects = f"{self.objects} objects" if self.objects is not None else "objects unknown"
        second = f", {'+'.join(self.controllers)}" if self.controllers else ""
        second += ", flux-operator stand-in" if self.flux_operator else ""
        return (
            f"{'kube-apiserver':<16} {self.url or '-':<26} {state:<5} {objects}, pid {self.apiserver_pid or '-'}, "
            f"etcd {len(self.etcd_members)} member(s){second} [{self.name}]"
        )


class SandboxCluster:
    def __init__(self, state_dir: Path, cluster_id: str, name: str) -> None:
        digest = hashlib.sha256(cluster_id.encode()).hexdigest()[:12]
        self.state_dir = Path(state_dir)
        self.name = name or "cluster"
        self.dir = self.state_dir / "kube" / f"{self.name}-{digest}"
        self.logs = log_dir(self.state_dir)
        self.etcd = EtcdCluster(self.dir, f"{self.name}-{digest}", self.logs)
        self.apiserver = ApiServer(self.dir, self.logs, f"{self.name}-{digest}")
        self.kubelets = Daemon(self.dir / "kubelets.pid", self.logs / f"kubelets-{self.name}-{digest}.log")
        # Stand-ins for what the platform's controllers do: load-balancer addresses, the in-cluster PowerDNS.
        self.lb_ipam = Daemon(self.dir / "lb-ipam.pid", self.logs / f"lb-ipam-{self.name}-{digest}.log")
        runner_log = self.logs / f"powerdns-runner-{self.name}-{digest}.log"
        self.powerdns = Daemon(self.dir / "powerdns-runner.pid", runner_log)
        # The hcloud CCM's stand-in: acts only on a loopback HCLOUD_ENDPOINT (sandbox/kube/hcloud_ccm.py).
        self.hcloud_ccm = Daemon(self.dir / "hcloud-ccm.pid", self.logs / f"hcloud-ccm-{self.name}-{digest}.log")
        # flux-operator's stand-in: FluxInstances run by the real Flux controllers (sandbox/kube/flux_operator.py).
        operator_log = self.logs / f"flux-operator-{self.name}-{digest}.log"
        self.flux_operator = Daemon(self.dir / "flux-operator.pid", operator_log)
        self.controllers = Controllers(self.dir, self.logs, f"{self.name}-{digest}")
        self.flux = flux.Flux(self.dir, self.logs, f"{self.name}-{digest}")
        self.cluster_id = cluster_id

    @classmethod
    def all(cls, state_dir: Path) -> list[SandboxCluster]:
        found = []
        for record in sorted((Path(state_dir) / "kube").glob("*/cluster.json")):
            data = json.loads(record.read_text())
            found.append(cls(state_dir, data["cluster_id"], data["name"]))
        return found

    def _save(self, with_controllers: bool) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        record = {"cluster_id": self.cluster_id, "name": self.name, "controllers": with_controllers}
        (self.dir / "cluster.json").write_text(json.dumps(record, indent=2) + "\n")

    @property
    def with_controllers(self) -> bool:
        try:
            return bool(json.loads((self.dir / "cluster.json").read_text()).get("controllers"))
        except (FileNotFoundError, ValueError):
            return False

    def bootstrap(
        self, config_text: str, address: str, member_name: str, snapshot: Path | None = None, controllers: bool = False
    ) -> None:
        """The first control plane: a new etcd cluster (or one restored from a snapshot) and kube-apiserver; with
        ``controllers``, the second tier too (kube-controller-manager, kube-scheduler, kwok)."""
        config = v1alpha1(config_text)
        pki = certs.ClusterPKI.from_config(config)
        self.stop()
        self._save(controllers)
        self._config_file.touch(mode=0o600, exist_ok=True)
        self._config_file.write_text(config_text)
        self.etcd.bootstrap(Member(member_name, address), pki, snapshot)
        self._start_apiserver(pki, config)
        self._start_kubelets()
        if controllers:
            self.controllers.start(pki, str(self.apiserver.url), self.apiserver.pki_dir, pki.pod_subnet)
        if flux.enabled():  # TALOSFORGE_SANDBOX_FLUX=1 in the talosctl call's environment (docs/sandbox-flux.md)
            self.apiserver.wait_ready()
            self.flux.start(pki, str(self.apiserver.url), self.apiserver.pki_dir)

    def _start_apiserver(self, pki: certs.ClusterPKI, config: dict[str, Any]) -> None:
        host, port = endpoint_of(config)
        etcd_urls = [member.client_url for member in self.etcd.running()]
        self.apiserver.start(pki, host, port, etcd_urls, self.with_controllers)

    def _start_kubelets(self) -> None:
        command = [
            sys.executable,
            "-m",
            "sandbox.kube.kubelets",
            "--state-dir",
            str(self.state_dir),
            "--cluster-dir",
            str(self.dir),
        ]
        env = environment()
        env["PYTHONPATH"] = str(REPO_ROOT) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.kubelets.start(command, env=env)
        self.lb_ipam.start([sys.executable, "-m", "sandbox.kube.lb_ipam", "--cluster-dir", str(self.dir)], env=env)
        runner = [sys.executable, "-m", "sandbox.kube.powerdns_runner", "--cluster-dir", str(self.dir)]
        self.powerdns.start([*runner, "--log-dir", str(self.logs)], env=env)
        ccm = [sys.executable, "-m", "sandbox.kube.hcloud_ccm", "--cluster-dir", str(self.dir)]
        self.hcloud_ccm.start(ccm, env=env)
        operator = [sys.executable, "-m", "sandbox.kube.flux_operator", "--cluster-dir", str(self.dir)]
        self.flux_operator.start([*operator, "--log-dir", str(self.logs)], env=env)

    def join(self, config_text: str, address: str, member_name: str) -> None:
        """A control plane joins: its etcd member is added (as a learner, then promoted) and started."""
        pki = certs.ClusterPKI.from_config(v1alpha1(config_text))
        self.etcd.join(Member(member_name, address), pki)

    def leave(self, address: str) -> None:
        """A control plane leaves etcd: removed from the member list, stopped, wiped. kube-apiserver, which talks
        to the members it was started with, is restarted on the remaining ones when it used the leaving one."""
        member = next((m for m in self.etcd.running() if m.address == address), None)
        if member is None:
            return
        self.etcd.leave(member)
        used = self.apiserver.record.get("etcd_urls") or []
        if member.client_url in used and self.etcd.running():
            config = v1alpha1(self._config_file.read_text())
            self._start_apiserver(certs.ClusterPKI.from_config(config), config)

    def wipe_member(self, address: str) -> None:
        """The node's etcd member stops and loses its data, without leaving the member list."""
        for member in self.etcd.running():
            if member.address == address:
                self.etcd.wipe(member)

    @property
    def _config_file(self) -> Path:
        # The control-plane config the cluster was bootstrapped with, 0600: it holds the CAs' keys.
        return self.dir / "bootstrap-config.yaml"

    def members(self) -> list[dict[str, Any]]:
        return self.etcd.members()

    def served(self) -> bool:
        return bool(self.etcd.running())

    def status(self) -> Status:
        objects = None
        members = [member.address for member in self.etcd.running()]
        if members:
            try:
                counted = self.etcd.ctl("get", "/registry", "--prefix", "--count-only", "-w", "fields")
                objects = int(next(line for line in counted.splitlines() if line.startswith('"Count"')).split(":")[1])
            except (EtcdError, ValueError, subprocess.TimeoutExpired):
                objects = None
        running = [program for program, pid in {**self.controllers.running(), **self.flux.running()}.items() if pid]
        return Status(
            self.name,
            self.apiserver.url,
            self.apiserver.daemon.pid,
            self.apiserver.ready(),
            members,
            objects,
            running,
            self.flux_operator.alive(),
        )

    def stop(self) -> None:
        self.flux_operator.stop()  # first: it would start the controllers again
        self.flux.stop()
        self.controllers.stop()
        self.powerdns.stop()
        powerdns_runner.stop_all(self.dir, self.logs)
        self.hcloud_ccm.stop()
        self.lb_ipam.stop()
        self.kubelets.stop()
        self.apiserver.stop()
        self.etcd.stop_all()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def for_node_config(state_dir: Path, config_text: str) -> SandboxCluster | None:
    """The sandbox cluster a node's machine config belongs to, or None when its endpoint is not servable."""
    config = v1alpha1(config_text)
    if not servable(config):
        return None
    cluster = config.get("cluster") or {}
    cluster_id = str(cluster.get("id") or f"name:{cluster.get('clusterName', '')}")
    return SandboxCluster(state_dir, cluster_id, str(cluster.get("clusterName") or "cluster"))
