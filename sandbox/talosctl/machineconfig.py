"""Machine configs and talosconfig as ``talosctl gen config`` (Talos v1.12+ contract) writes them.

The v1alpha1 document follows the field order of Talos' Go types; for v1.12 and later gen config also emits a
``HostnameConfig`` with ``auto: stable`` (and ``RegistryMirrorConfig`` / ``KubeSpanConfig`` documents when
asked). One deliberate difference: the real v1.13.9 writes ``persist: true`` at the top of the v1alpha1 document,
a field the published JSON schema does not allow (``additionalProperties: false``); the stand-in leaves it out so
that every document it writes validates against ``config.schema.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import pki
from .secrets import Bundle

KUBELET_IMAGE = "ghcr.io/siderolabs/kubelet"
CONTROL_PLANE_IMAGES = {
    "apiServer": "registry.k8s.io/kube-apiserver",
    "controllerManager": "registry.k8s.io/kube-controller-manager",
    "proxy": "registry.k8s.io/kube-proxy",
    "scheduler": "registry.k8s.io/kube-scheduler",
}
DEFAULT_KUBERNETES_VERSION = "1.36.3"
POD_SUBNETS = {4: "10.244.0.0/16", 6: "fc00:db8:10::/56"}
SERVICE_SUBNETS = {4: "10.96.0.0/12", 6: "fc00:db8:20::/112"}
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:$|\.)")


def parse_talos_version(text: str) -> tuple[int, int]:
    """(major, minor) of ``--talos-version``; ValueError with talosctl's message when it does not parse."""
    match = _VERSION.match(text if text.startswith("v") else f"v{text}")
    if not match:
        raise ValueError(f'invalid talos-version: error parsing version "{text}"')
    return int(match.group(1)), int(match.group(2))


@dataclass
class Options:
    cluster_name: str
    endpoint: str
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    install_disk: str = "/dev/sda"
    install_image: str = "ghcr.io/siderolabs/installer:v1.13.9"
    additional_sans: list[str] = field(default_factory=list)
    dns_domain: str = "cluster.local"
    discovery: bool = True
    kubespan: bool = False
    registry_mirrors: list[tuple[str, str]] = field(default_factory=list)
    talos_version: tuple[int, int] = (1, 13)


def image(repository: str, kubernetes_version: str) -> str:
    return f"{repository}:v{kubernetes_version.lstrip('v')}"


def _pod_security() -> dict[str, Any]:
    return {
        "name": "PodSecurity",
        "configuration": {
            "apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
            "defaults": {
                "audit": "restricted",
                "audit-version": "latest",
                "enforce": "baseline",
                "enforce-version": "latest",
                "warn": "restricted",
                "warn-version": "latest",
            },
            "exemptions": {"namespaces": ["kube-system"], "runtimeClasses": [], "usernames": []},
            "kind": "PodSecurityConfiguration",
        },
    }


def _machine(bundle: Bundle, options: Options, role: str) -> dict[str, Any]:
    controlplane = role == "controlplane"
    machine: dict[str, Any] = {
        "type": role,
        "token": bundle.trustd_token,
        "ca": bundle.os.encoded() if controlplane else {"crt": pki.b64(bundle.os.crt), "key": ""},
        "certSANs": list(options.additional_sans),
        "kubelet": {
            "image": image(KUBELET_IMAGE, options.kubernetes_version),
            "defaultRuntimeSeccompProfileEnabled": True,
            "disableManifestsDirectory": True,
        },
        "install": {
            "disk": options.install_disk,
            "image": options.install_image,
            "wipe": False,
            "grubUseUKICmdline": True,
        },
        "features": {
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": 7445},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    if not options.install_disk:
        del machine["install"]["disk"]
    if not options.install_image:
        del machine["install"]["image"]
    if controlplane:
        machine["nodeLabels"] = {"node.kubernetes.io/exclude-from-external-load-balancers": ""}
    return machine


def _cluster(bundle: Bundle, options: Options, role: str) -> dict[str, Any]:
    # talosctl picks IPv6 defaults only when the endpoint parses as a bare IPv6 address, which a URL never does
    family = 4
    cluster: dict[str, Any] = {
        "id": bundle.cluster_id,
        "secret": bundle.cluster_secret,
        "controlPlane": {"endpoint": options.endpoint},
        "clusterName": options.cluster_name,
        "network": {
            "dnsDomain": options.dns_domain,
            "podSubnets": [POD_SUBNETS[family]],
            "serviceSubnets": [SERVICE_SUBNETS[family]],
        },
        "token": bundle.bootstrap_token,
    }
    discovery = {"enabled": options.discovery, "registries": {"kubernetes": {"disabled": True}, "service": {}}}
    if role != "controlplane":
        cluster["ca"] = {"crt": pki.b64(bundle.k8s.crt), "key": ""}
        cluster["discovery"] = discovery
        return cluster
    api_server: dict[str, Any] = {"image": image(CONTROL_PLANE_IMAGES["apiServer"], options.kubernetes_version)}
    if options.additional_sans:
        api_server["certSANs"] = list(options.additional_sans)
    api_server["admissionControl"] = [_pod_security()]
    api_server["auditPolicy"] = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}
    cluster.update(
        {
            "secretboxEncryptionSecret": bundle.secretbox_secret,
            "ca": bundle.k8s.encoded(),
            "aggregatorCA": bundle.k8s_aggregator.encoded(),
            "serviceAccount": {"key": pki.b64(bundle.service_account_key)},
            "apiServer": api_server,
        }
    )
    for name in ("controllerManager", "proxy", "scheduler"):
        cluster[name] = {"image": image(CONTROL_PLANE_IMAGES[name], options.kubernetes_version)}
    cluster["discovery"] = discovery
    cluster["etcd"] = {"ca": bundle.etcd.encoded()}
    return cluster


def generate(bundle: Bundle, options: Options, role: str) -> list[dict[str, Any]]:
    """The documents of the ``controlplane`` or ``worker`` machine config."""
    documents: list[dict[str, Any]] = [
        {
            "version": "v1alpha1",
            "debug": False,
            "machine": _machine(bundle, options, role),
            "cluster": _cluster(bundle, options, role),
        }
    ]
    for host, url in options.registry_mirrors:
        documents.append(
            {"apiVersion": "v1alpha1", "kind": "RegistryMirrorConfig", "name": host, "endpoints": [{"url": url}]}
        )
    documents.append({"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"})
    if options.kubespan:
        documents.append({"apiVersion": "v1alpha1", "kind": "KubeSpanConfig", "enabled": True})
    return documents


def talosconfig(
    bundle: Bundle, context: str, endpoints: list[str] | None = None, roles: list[str] | None = None
) -> dict[str, Any]:
    """A talosconfig with one context and an admin client certificate (1 year) signed by the os CA."""
    client = pki.issue_client(bundle.os, roles or ["os:admin"], None, pki.ADMIN_VALIDITY)
    return {
        "context": context,
        "contexts": {
            context: {
                "endpoints": list(endpoints or []),
                "ca": pki.b64(bundle.os.crt),
                "crt": pki.b64(client.crt),
                "key": pki.b64(client.key),
            }
        },
    }


def endpoint_problem(endpoint: str) -> str | None:
    """talosctl's complaint about a cluster endpoint given to ``gen config``, or None."""
    parts = urlsplit(endpoint if "://" in endpoint or "/" in endpoint else f"//{endpoint}")
    host = parts.hostname or (endpoint if "/" not in endpoint else "")
    port = parts.port if parts.netloc else None
    fixed = f"https://{host}:{port or 6443}"
    if not parts.scheme:
        if port is None:
            return f'no scheme and port specified for the cluster endpoint URL\ntry: "{fixed}"'
        return f'no scheme specified for the cluster endpoint URL\ntry: "{fixed}"'
    if parts.scheme != "https":
        return f'the control plane endpoint URL should have scheme https://\ntry: "{fixed}"'
    if not host:
        return f'error validating the cluster endpoint URL: "{endpoint}" is not a valid endpoint URI'
    return None
