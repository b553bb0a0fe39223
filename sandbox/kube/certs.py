"""The control plane's files, made from a Talos control-plane machine config as a Talos node makes them.

A Talos control plane derives everything its kube-apiserver and etcd need from the machine config: the
Kubernetes CA (``cluster.ca``), the aggregator CA (``cluster.aggregatorCA``), the service-account key
(``cluster.serviceAccount``) and the etcd CA (``cluster.etcd.ca``); it issues itself the serving and client
certificates signed by those CAs. :func:`write` does the same into a folder, so that the sandbox's real
kube-apiserver and etcd run with the cluster's own PKI and an admin kubeconfig from ``talosctl kubeconfig``
authenticates against them unchanged.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from ..simulators.talos import pki

LEAF_VALIDITY = datetime.timedelta(days=365)


@dataclass(frozen=True)
class ClusterPKI:
    """The CAs and the service-account key of one cluster, read from a control-plane machine config."""

    kubernetes: pki.CertAndKey
    aggregator: pki.CertAndKey
    etcd: pki.CertAndKey
    service_account_key: bytes
    service_subnet: str
    pod_subnet: str
    dns_domain: str
    extra_sans: tuple[str, ...]

    @classmethod
    def from_config(cls, v1alpha1: dict[str, Any]) -> ClusterPKI:
        cluster = v1alpha1.get("cluster") or {}
        missing = [
            name
            for name, value in (
                ("cluster.ca", cluster.get("ca")),
                ("cluster.aggregatorCA", cluster.get("aggregatorCA")),
                ("cluster.serviceAccount", cluster.get("serviceAccount")),
                ("cluster.etcd.ca", (cluster.get("etcd") or {}).get("ca")),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"the control-plane config lacks {', '.join(missing)}")

        def pair(section: dict[str, Any]) -> pki.CertAndKey:
            return pki.CertAndKey(pki.unb64(section["crt"]), pki.unb64(section["key"]))

        network = cluster.get("network") or {}
        return cls(
            kubernetes=pair(cluster["ca"]),
            aggregator=pair(cluster["aggregatorCA"]),
            etcd=pair(cluster["etcd"]["ca"]),
            service_account_key=pki.unb64(cluster["serviceAccount"]["key"]),
            service_subnet=str((network.get("serviceSubnets") or ["10.96.0.0/12"])[0]),
            pod_subnet=str((network.get("podSubnets") or ["10.244.0.0/16"])[0]),
            dns_domain=str(network.get("dnsDomain") or "cluster.local"),
            extra_sans=tuple(str(san) for san in (cluster.get("apiServer") or {}).get("certSANs") or ()),
        )


def _issue(
    ca: pki.CertAndKey, common_name: str, organizations: list[str], sans: list[str], server: bool, client: bool
) -> pki.CertAndKey:
    # five minutes back, so that a certificate made now is valid on every process's clock at once
    start = pki.now() - datetime.timedelta(minutes=5)
    return pki.issue(ca, organizations, common_name, LEAF_VALIDITY, sans, server=server, client=client, start=start)


def _write(folder: Path, name: str, data: bytes, private: bool = False) -> Path:
    path = folder / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path


def issue_client(ca: pki.CertAndKey, common_name: str, organizations: list[str]) -> pki.CertAndKey:
    """A client certificate (CN = user, O = groups) signed by ``ca``."""
    return _issue(ca, common_name, organizations, [], server=False, client=True)


def write_pair(folder: Path, name: str, cert: pki.CertAndKey) -> None:
    """``<name>.crt`` (0644) and ``<name>.key`` (0600) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, f"{name}.crt", cert.crt)
    _write(folder, f"{name}.key", cert.key, private=True)


def first_service_ip(subnet: str) -> str:
    return str(next(ipaddress.ip_network(subnet, strict=False).hosts()))


def write_apiserver(folder: Path, cluster: ClusterPKI, endpoint_host: str) -> None:
    """ca.crt, apiserver.{crt,key}, front-proxy-ca.crt, front-proxy-client.{crt,key}, sa.{key,pub},
    apiserver-etcd-client.{crt,key} and etcd-ca.crt: what kube-apiserver's flags name."""
    folder.mkdir(parents=True, exist_ok=True)
    domain = cluster.dns_domain
    sans = [
        endpoint_host,
        *cluster.extra_sans,
        "127.0.0.1",
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{domain}",
        first_service_ip(cluster.service_subnet),
    ]
    _write(folder, "ca.crt", cluster.kubernetes.crt)
    write_pair(folder, "apiserver", _issue(cluster.kubernetes, "kube-apiserver", [], sans, server=True, client=False))
    _write(folder, "front-proxy-ca.crt", cluster.aggregator.crt)
    write_pair(folder, "front-proxy-client", _issue(cluster.aggregator, "front-proxy-client", [], [], False, True))
    key = pki.load_key(cluster.service_account_key)
    _write(folder, "sa.key", cluster.service_account_key, private=True)
    _write(
        folder,
        "sa.pub",
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )
    _write(folder, "etcd-ca.crt", cluster.etcd.crt)
    client = _issue(cluster.etcd, "kube-apiserver-etcd-client", ["system:masters"], [], server=False, client=True)
    write_pair(folder, "apiserver-etcd-client", client)


def write_etcd_member(folder: Path, cluster: ClusterPKI, address: str, name: str) -> None:
    """ca.crt, server.{crt,key} and peer.{crt,key} of one etcd member, plus client.{crt,key} for etcdctl."""
    folder.mkdir(parents=True, exist_ok=True)
    sans = [address, "127.0.0.1", "localhost", name]
    _write(folder, "ca.crt", cluster.etcd.crt)
    write_pair(folder, "server", _issue(cluster.etcd, name, [], sans, server=True, client=True))
    write_pair(folder, "peer", _issue(cluster.etcd, name, [], sans, server=True, client=True))
    write_pair(folder, "client", _issue(cluster.etcd, "talosforge-sandbox", ["system:masters"], [], False, True))
