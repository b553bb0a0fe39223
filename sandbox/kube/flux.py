"""The real Flux controllers against a sandbox cluster's kube-apiserver: source-, kustomize- and helm-controller.

They run as plain processes on this machine, as Flux's own ``make run`` runs them, each with its own identity (a
client certificate signed by the cluster CA, user ``flux:<controller>`` in ``system:masters``: a real Flux
install binds kustomize- and helm-controller to cluster-admin; source-controller, narrower there, is given the same
here). Everything listens on loopback ports picked free at start: source-controller's artifact server (which it
also advertises, so the other two fetch artifacts from ``http://127.0.0.1:<port>``), and each controller's metrics
and health endpoints. No leader election (one of each), no events webhook (no notification-controller), all
namespaces watched, remote kustomize bases refused (the sandbox reaches nothing but loopback).

Before the controllers start, their CRDs (tests/contracts/crds/{source,kustomize,helm}.toolkit.fluxcd.io, the files
Flux v2.9.4 ships) are applied and waited for: a controller whose kinds are not served exits at once.

Two ways start them, through :meth:`Flux.ensure`: ``TALOSFORGE_SANDBOX_FLUX=1`` in the environment of the talosctl
call that bootstraps the cluster (all three, :meth:`Flux.start`), and flux-operator's stand-in
(sandbox/kube/flux_operator.py) for the components a FluxInstance names (docs/sandbox-flux.md). The programs are the
third tier of sandbox/gotools.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from .. import gotools
from ..paths import REPO_ROOT
from . import certs
from .client import Api
from .processes import Daemon, environment

ENABLE_ENV = "TALOSFORGE_SANDBOX_FLUX"
CRD_DIR = REPO_ROOT / "tests" / "contracts" / "crds"
CRD_GROUPS = ("source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io")
PROGRAMS = ("source-controller", "kustomize-controller", "helm-controller")
GROUP_OF = dict(zip(PROGRAMS, CRD_GROUPS, strict=True))  # each controller's CRDs
CRD_TIMEOUT_S = 30.0


class FluxError(RuntimeError):
    pass


def enabled(env: dict[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get(ENABLE_ENV, "") in ("1", "true", "yes")


def _free_port() -> int:
    # The port is free when we look; the controller binds it a moment later (nothing else here picks ports this way
    # on 127.0.0.1 faster than that).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def crds(groups: tuple[str, ...] = CRD_GROUPS) -> list[dict[str, Any]]:
    found = []
    for group in groups:
        for path in sorted((CRD_DIR / group).glob("*.yaml")):
            found.append(yaml.safe_load(path.read_text()))
    return found


def apply_crds(api: Api, timeout: float = CRD_TIMEOUT_S, groups: tuple[str, ...] = CRD_GROUPS) -> list[dict[str, Any]]:
    """Server-side apply of Flux's CRDs of ``groups``, then wait until each is Established; the CRDs applied."""
    applied = crds(groups)
    for crd in applied:
        name = crd["metadata"]["name"]
        path = (
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}?fieldManager=talosforge-sandbox&force=true"
        )
        api.call("PATCH", path, crd, content_type="application/apply-patch+yaml", timeout=30)
    deadline = time.monotonic() + timeout
    for crd in applied:
        name = crd["metadata"]["name"]
        while True:
            found = api.call("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}") or {}
            conditions = (found.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise FluxError(f"CustomResourceDefinition {name} was not Established within {timeout:.0f} s")
            time.sleep(0.2)
    return applied


class Flux:
    """The three controllers of one cluster: files under ``<cluster dir>/flux/``."""

    def __init__(self, cluster_dir: Path, log_dir: Path, name: str) -> None:
        self.root = cluster_dir / "flux"
        self.daemons = {
            program: Daemon(self.root / f"{program}.pid", log_dir / f"{program}-{name}.log") for program in PROGRAMS
        }

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    def ports(self) -> dict[str, dict[str, int]]:
        """Each controller's loopback ports (``metrics``, ``health``; source-controller's ``storage`` too)."""
        try:
            return json.loads(self.ports_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def artifact_url(self) -> str | None:
        storage = self.ports().get("source-controller", {}).get("storage")
        return f"http://127.0.0.1:{storage}" if storage else None

    def _kubeconfig(self, program: str, pki: certs.ClusterPKI, url: str, ca: Path) -> Path:
        user = f"flux:{program}"
        certs.write_pair(self.root, program, certs.issue_client(pki.kubernetes, user, ["system:masters"]))
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": url, "certificate-authority": str(ca)}}],
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
        path = self.root / f"{program}.kubeconfig"
        path.write_text(yaml.safe_dump(document))
        return path

    def start(self, pki: certs.ClusterPKI, url: str, apiserver_pki: Path) -> None:
        """All three controllers, started afresh (the ``TALOSFORGE_SANDBOX_FLUX=1`` bootstrap)."""
        self.stop()
        self.ensure(pki, url, apiserver_pki, PROGRAMS)

    def ensure(
        self, pki: certs.ClusterPKI, url: str, apiserver_pki: Path, programs: tuple[str, ...] = PROGRAMS
    ) -> list[str]:
        """Exactly ``programs`` running: the others stopped, the missing ones started (after their CRDs are applied
        and Established); those already running are left as they are. The programs started.

        MissingProgram (which says how to build it) before anything changes when one of ``programs`` is not built.
        """
        unknown = [program for program in programs if program not in PROGRAMS]
        if unknown:
            raise FluxError(f"no such Flux controller in the sandbox: {', '.join(unknown)}")
        binaries = {program: str(gotools.binary(program)) for program in programs}
        for program, daemon in self.daemons.items():
            if program not in programs:
                daemon.stop()
        missing = [program for program in PROGRAMS if program in programs and not self.daemons[program].alive()]
        ports = {program: found for program, found in self.ports().items() if program in programs}
        if not missing:
            self._write_ports(ports)
            return []
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            apply_crds(Api.admin(url, apiserver_pki), groups=tuple(GROUP_OF[program] for program in missing))
        except urllib.error.HTTPError as error:
            raise FluxError(
                f"applying Flux's CRDs failed: {error.code} {error.read().decode(errors='replace')}"
            ) from None
        ca = self.root / "ca.crt"
        ca.write_bytes(pki.kubernetes.crt)
        for program in missing:
            ports[program] = {"metrics": _free_port(), "health": _free_port()}
        if "source-controller" in missing:
            ports["source-controller"]["storage"] = _free_port()
            (self.root / "artifacts").mkdir(exist_ok=True)  # source-controller refuses a storage path not there
        self._write_ports(ports)
        for program in missing:
            self._start_one(program, binaries[program], ports[program], pki, url, ca)
        return missing

    def _write_ports(self, ports: dict[str, dict[str, int]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.ports_file.write_text(json.dumps(ports, indent=2) + "\n")

    def _start_one(
        self, program: str, binary: str, ports: dict[str, int], pki: certs.ClusterPKI, url: str, ca: Path
    ) -> None:
        extra = {
            "source-controller": [
                f"--storage-path={self.root / 'artifacts'}",
                f"--storage-addr=127.0.0.1:{ports.get('storage')}",
                f"--storage-adv-addr=127.0.0.1:{ports.get('storage')}",
            ],
            "kustomize-controller": ["--no-remote-bases=true"],
            "helm-controller": [],
        }
        home = self.root / "home" / program
        home.mkdir(parents=True, exist_ok=True)
        env = environment()
        # controller-runtime reads $KUBECONFIG (Flux's mains register no --kubeconfig flag); HOME and TUF_ROOT keep
        # helm's and sigstore's caches in the sandbox's folder, not the user's.
        env.update(
            KUBECONFIG=str(self._kubeconfig(program, pki, url, ca)),
            HOME=str(home),
            TUF_ROOT=str(home / "tuf"),
            RUNTIME_NAMESPACE="flux-system",
        )
        self.daemons[program].start(
            [
                binary,
                f"--metrics-addr=127.0.0.1:{ports['metrics']}",
                f"--health-addr=127.0.0.1:{ports['health']}",
                "--events-addr=",
                "--watch-all-namespaces=true",
                "--enable-leader-election=false",
                *extra[program],
            ],
            env=env,
        )

    def healthy(self) -> dict[str, bool]:
        """Each controller's answer on its health port (``/readyz``)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        answers = {}
        for program, ports in self.ports().items():
            if program not in self.daemons:
                continue
            try:
                with opener.open(f"http://127.0.0.1:{ports['health']}/readyz", timeout=2) as answer:
                    answers[program] = answer.status == 200
            except OSError:
                answers[program] = False
        return answers

    def running(self) -> dict[str, int | None]:
        return {program: daemon.pid for program, daemon in self.daemons.items()}

    def stop(self) -> None:
        for daemon in self.daemons.values():
            daemon.stop()
