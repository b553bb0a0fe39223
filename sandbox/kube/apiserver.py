"""The real kube-apiserver of a sandbox cluster, listening at the cluster's API endpoint.

Built from ``k8s.io/kubernetes`` (sandbox/gotools/kube), it runs with the cluster's own PKI (certs.py), stores in
the cluster's real etcd members and writes an audit log (metadata level: who did what to which object), which is
how tests and benchmarks count the collection's requests. Without the second tier (controllers.py) no
kube-controller-manager runs, so the ServiceAccount admission plugin is off (no controller would create the
default service accounts) and namespaces are not finalised; see docs/sandbox-kube.md.
"""

from __future__ import annotations

import json
import time
import urllib.error
from pathlib import Path
from typing import Any

from .. import gotools
from . import certs
from .client import Api
from .processes import Daemon, environment

READY_TIMEOUT_S = 90.0
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
"""


class ApiServerError(RuntimeError):
    pass


class ApiServer:
    """kube-apiserver for one cluster: files under ``<cluster dir>/apiserver/``."""

    def __init__(self, cluster_dir: Path, log_dir: Path, name: str) -> None:
        self.root = cluster_dir / "apiserver"
        self.pki_dir = self.root / "pki"
        self.log_dir = log_dir
        self.name = name
        self.daemon = Daemon(self.root / "pid", log_dir / f"kube-apiserver-{name}.log")
        self.audit_log = log_dir / f"kube-apiserver-audit-{name}.jsonl"

    @property
    def record(self) -> dict[str, Any]:
        try:
            return json.loads((self.root / "apiserver.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    @property
    def url(self) -> str | None:
        return self.record.get("url")

    def start(self, pki: certs.ClusterPKI, host: str, port: int, etcd_urls: list[str], controllers: bool) -> None:
        certs.write_apiserver(self.pki_dir, pki, host)
        admin = certs.issue_client(pki.kubernetes, "talosforge-sandbox", ["system:masters"])
        certs.write_pair(self.pki_dir, "sandbox-admin", admin)
        (self.root / "audit-policy.yaml").write_text(AUDIT_POLICY)
        url = f"https://{host}:{port}"
        tls = self.pki_dir
        command = [
            str(gotools.binary("kube-apiserver")),
            f"--bind-address={host}",
            f"--secure-port={port}",
            f"--advertise-address={host}",
            "--endpoint-reconciler-type=none",
            f"--etcd-servers={','.join(etcd_urls)}",
            f"--etcd-cafile={tls / 'etcd-ca.crt'}",
            f"--etcd-certfile={tls / 'apiserver-etcd-client.crt'}",
            f"--etcd-keyfile={tls / 'apiserver-etcd-client.key'}",
            f"--tls-cert-file={tls / 'apiserver.crt'}",
            f"--tls-private-key-file={tls / 'apiserver.key'}",
            f"--client-ca-file={tls / 'ca.crt'}",
            f"--requestheader-client-ca-file={tls / 'front-proxy-ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={tls / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={tls / 'front-proxy-client.key'}",
            f"--service-account-issuer={url}",
            f"--service-account-key-file={tls / 'sa.pub'}",
            f"--service-account-signing-key-file={tls / 'sa.key'}",
            f"--service-cluster-ip-range={pki.service_subnet}",
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            "--enable-admission-plugins=NodeRestriction",
            f"--audit-policy-file={self.root / 'audit-policy.yaml'}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            "--profiling=false",
            f"--cert-dir={self.root / 'cert-dir'}",
        ]
        if not controllers:
            # without kube-controller-manager no default ServiceAccount would ever exist for the plugin to find
            command.append("--disable-admission-plugins=ServiceAccount")
        self.daemon.start(command, env=environment())
        (self.root / "apiserver.json").write_text(
            json.dumps({"url": url, "host": host, "port": port, "etcd_urls": etcd_urls})
        )

    def ready(self) -> bool:
        if not self.url:
            return False
        try:
            return Api.admin(self.url, self.pki_dir).call("GET", "/readyz", timeout=2.0) == "ok"
        except (OSError, urllib.error.URLError):
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.daemon.alive():
                raise ApiServerError(f"kube-apiserver exited: {self.daemon.tail()}")
            if self.ready():
                return time.monotonic() - started
            time.sleep(0.25)
        raise ApiServerError(f"kube-apiserver at {self.url} was not ready within {timeout:.0f} s: {self.daemon.tail()}")

    def stop(self) -> None:
        self.daemon.stop()
