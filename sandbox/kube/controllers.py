"""The second tier of a sandbox cluster's control plane: kube-controller-manager, kube-scheduler and kwok.

With them, Deployments get ReplicaSets and Pods, DaemonSets get a Pod per node, the scheduler binds Pods to the
sandbox's Nodes (respecting their taints), and kwok, standing in for the kubelets' container side, reports the
Pods it is given as Running (Jobs' Pods as Succeeded) with the stages in ``kwok-stages/``. Node status
stays the kubelet stand-in's (kubelets.py): kwok is given no Node stages and no node leases. Each program has its
own identity, a client certificate signed by the cluster CA: ``system:kube-controller-manager`` and
``system:kube-scheduler`` as Kubernetes names them (their RBAC roles are built in), kwok in ``system:masters``.

Enabled per sandbox with ``TALOSFORGE_SANDBOX_CONTROLLERS=1`` in the environment of the talosctl call that
bootstraps the cluster (docs/sandbox-kube.md); the programs are the second tier of sandbox/gotools.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .. import gotools
from . import certs
from .processes import Daemon, environment

ENABLE_ENV = "TALOSFORGE_SANDBOX_CONTROLLERS"
STAGES = Path(__file__).resolve().parent / "kwok-stages"
IDENTITIES = {
    "kube-controller-manager": ("system:kube-controller-manager", []),
    "kube-scheduler": ("system:kube-scheduler", []),
    "kwok": ("talosforge-sandbox-kwok", ["system:masters"]),
}


def _component_flags(kubeconfig: Path) -> list[str]:
    """What kube-controller-manager and kube-scheduler share: one identity for the API server and for checking their
    own callers, no serving port (nothing here scrapes them), no leader election (one of each)."""
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--secure-port=0",
        "--leader-elect=false",
    ]


def enabled(env: dict[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get(ENABLE_ENV, "") in ("1", "true", "yes")


class Controllers:
    """The three programs of one cluster: files under ``<cluster dir>/controllers/``."""

    def __init__(self, cluster_dir: Path, log_dir: Path, name: str) -> None:
        self.root = cluster_dir / "controllers"
        self.daemons = {
            program: Daemon(self.root / f"{program}.pid", log_dir / f"{program}-{name}.log") for program in IDENTITIES
        }

    def _kubeconfig(self, program: str, pki: certs.ClusterPKI, url: str) -> Path:
        user, groups = IDENTITIES[program]
        certs.write_pair(self.root, program, certs.issue_client(pki.kubernetes, user, groups))
        path = self.root / f"{program}.kubeconfig"
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": url, "certificate-authority": str(self.ca)}}],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": str(self.root / f"{program}.crt"),
                        "client-key": str(self.root / f"{program}.key"),
                    },
                }
            ],
            "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": user}}],
            "current-context": "sandbox",
        }
        path.write_text(yaml.safe_dump(document))
        return path

    @property
    def ca(self) -> Path:
        return self.root / "ca.crt"

    def start(self, pki: certs.ClusterPKI, url: str, apiserver_pki: Path, pod_subnet: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.ca.write_bytes(pki.kubernetes.crt)
        signing_key = self.root / "ca.key"
        signing_key.touch(mode=0o600, exist_ok=True)
        signing_key.write_bytes(pki.kubernetes.key)
        env = environment()
        kcm = self._kubeconfig("kube-controller-manager", pki, url)
        self.daemons["kube-controller-manager"].start(
            [
                str(gotools.binary("kube-controller-manager")),
                *_component_flags(kcm),
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={apiserver_pki / 'sa.key'}",
                f"--root-ca-file={self.ca}",
                f"--cluster-signing-cert-file={self.ca}",
                f"--cluster-signing-key-file={signing_key}",
                "--allocate-node-cidrs=true",
                f"--cluster-cidr={pod_subnet}",
                f"--service-cluster-ip-range={pki.service_subnet}",
                "--controllers=*,bootstrapsigner,tokencleaner",
            ],
            env=env,
        )
        scheduler = self._kubeconfig("kube-scheduler", pki, url)
        self.daemons["kube-scheduler"].start(
            [
                str(gotools.binary("kube-scheduler")),
                *_component_flags(scheduler),
            ],
            env=env,
        )
        kwok = self._kubeconfig("kwok", pki, url)
        self.daemons["kwok"].start(
            [
                str(gotools.binary("kwok")),
                f"--kubeconfig={kwok}",
                *(f"--config={stage}" for stage in sorted(STAGES.glob("*.yaml"))),
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=talosforge.dev/sandbox=true",
                "--node-lease-duration-seconds=0",
                f"--cidr={pod_subnet}",
                "--server-address=",
            ],
            env=env,
        )

    def running(self) -> dict[str, int | None]:
        return {program: daemon.pid for program, daemon in self.daemons.items()}

    def stop(self) -> None:
        for daemon in self.daemons.values():
            daemon.stop()
