"""The in-cluster PowerDNS for real: from the Secret, ConfigMap, Deployment and Service applied to the sandbox's
kube-apiserver, a real pdns_server answers on the Service's load-balancer address (its API with the key, DNS)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kube_testlib import LiveCluster, cni_daemonset, install_crds, wait_for
from sandbox_testlib import REPO_ROOT

pytestmark = pytest.mark.slow
CRDS = REPO_ROOT / "tests" / "contracts" / "crds"
NS = "powerdns"
PDNS_CONF = """\
launch=gsqlite3
gsqlite3-database=/var/lib/powerdns/pdns.sqlite3
api=yes
webserver=yes
webserver-address=0.0.0.0
webserver-port=8081
webserver-allow-from=0.0.0.0/0
local-port=53
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
"""
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never through a proxy


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("powerdns"), control_planes=1, workers=0)
    try:
        yield cluster
    finally:
        cluster.close()


def apply(live: LiveCluster, body: dict[str, Any]) -> None:
    """Server-side apply, as the collection's kube_objects does."""
    from kubernetes import dynamic

    api = dynamic.DynamicClient(live.api()).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    api.server_side_apply(body=body, namespace=body["metadata"].get("namespace"), field_manager="test", force=True)


def deployment(folder_mount: bool = False) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "powerdns"}
    config_mount = (
        {"name": "config", "mountPath": "/etc/powerdns/pdns.d"}
        if folder_mount
        else {"name": "config", "mountPath": "/etc/powerdns/pdns.d/pdns.conf", "subPath": "pdns.conf"}
    )
    key = {"secretKeyRef": {"name": "powerdns-api", "key": "api-key"}}
    image = "powerdns/pdns-auth-50:5.0.1"
    schema = "sqlite3 /var/lib/powerdns/pdns.sqlite3 < /usr/local/share/doc/pdns/schema.sqlite3.sql"
    data = {"name": "data", "mountPath": "/var/lib/powerdns"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "powerdns", "namespace": NS},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "initContainers": [
                        {
                            "name": "schema",
                            "image": image,
                            "command": ["sh", "-c", f"test -s /var/lib/powerdns/pdns.sqlite3 || {schema}"],
                            "volumeMounts": [data],
                        }
                    ],
                    "containers": [
                        {
                            "name": "pdns",
                            "image": image,
                            "env": [{"name": "PDNS_AUTH_API_KEY", "valueFrom": key}],
                            "ports": [
                                {"name": "dns-udp", "containerPort": 53, "protocol": "UDP"},
                                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                {"name": "api", "containerPort": 8081, "protocol": "TCP"},
                            ],
                            "volumeMounts": [config_mount, data],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "powerdns-config"}},
                        {"name": "data", "persistentVolumeClaim": {"claimName": "powerdns-data"}},
                    ],
                },
            },
        },
    }


def metallb_controller(live: LiveCluster) -> None:
    """MetalLB's controller Deployment (its upstream image): to the LB-IPAM stand-in, MetalLB is installed."""
    labels = {"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": "controller"}
    pod = {"containers": [{"name": "controller", "image": "quay.io/metallb/controller:v0.16.1"}]}
    spec = {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": pod}}
    metadata = {"name": "metallb-controller", "namespace": "metallb-system"}
    apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec})


def secret(key: str) -> dict[str, Any]:
    data = {"api-key": base64.b64encode(key.encode()).decode()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "powerdns-api", "namespace": NS}, "data": data}


def http(address: str, method: str, path: str, key: str | None, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{address}:8081{path}", data=data, method=method)
    if key is not None:
        request.add_header("X-API-Key", key)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with DIRECT.open(request, timeout=5) as answer:
            text = answer.read().decode()
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answering(address: str, key: str) -> bool:
    try:
        return http(address, "GET", "/api/v1/servers/localhost", key)[0] == 200
    except OSError:
        return False


def dig(address: str, *query: str) -> str:
    command = [shutil.which("dig") or "dig", f"@{address}", "-p", "53", "+short", "+time=2", "+tries=1", *query]
    return subprocess.run(command, capture_output=True, text=True, timeout=15, check=False).stdout.strip()


def nsupdate(address: str, text: str, key: str | None) -> int:
    """An RFC 2136 update adding a TXT record, signed with ``key`` (``algorithm:name:secret``) or not."""
    script = (
        f"server {address} 53\nzone cluster.example.\n"
        f'update add _acme-challenge.cluster.example. 60 TXT "{text}"\nsend\n'
    )
    command = [shutil.which("nsupdate") or "nsupdate", *(["-y", key] if key else [])]
    return subprocess.run(command, input=script, capture_output=True, text=True, timeout=20, check=False).returncode


def events(live: LiveCluster) -> list[tuple[str, str]]:
    from kubernetes import client

    found = client.CoreV1Api(live.api()).list_namespaced_event(NS, field_selector="involvedObject.kind=Deployment")
    return [(e.reason, e.message) for e in found.items]


def test_pdns_server_runs_from_the_applied_objects(live: LiveCluster) -> None:
    from kubernetes import client

    address = f"{live.prefix}.53"
    install_crds(live, "metallb.io/ipaddresspool.yaml")
    for namespace in ("metallb-system", NS):
        apply(live, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    pool = {"addresses": [f"{address}/32"]}
    apply(
        live,
        {
            "apiVersion": "metallb.io/v1beta1",
            "kind": "IPAddressPool",
            "metadata": {"name": "dns-pool", "namespace": "metallb-system"},
            "spec": pool,
        },
    )
    metallb_controller(live)
    apply(live, secret("first-key"))
    config = {"pdns.conf": PDNS_CONF}
    apply(
        live,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "powerdns-config", "namespace": NS},
            "data": config,
        },
    )
    apply(live, deployment())
    ports = [
        {"name": "dns-udp", "port": 53, "protocol": "UDP", "targetPort": "dns-udp"},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": "dns-tcp"},
        {"name": "api", "port": 8081, "protocol": "TCP", "targetPort": "api"},
    ]
    annotations = {"metallb.io/address-pool": "dns-pool"}
    apply(
        live,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "powerdns", "namespace": NS, "annotations": annotations},
            "spec": {"type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "powerdns"}, "ports": ports},
        },
    )

    # the API answers on the Service's address with the key from the Secret, and only with it
    wait_for(lambda: answering(address, "first-key"), 90, "pdns_server's API on the load-balancer address")
    assert http(address, "GET", "/api/v1/servers/localhost", None)[0] == 401
    assert http(address, "GET", "/api/v1/servers/localhost", "wrong-key")[0] == 401
    zone = {"name": "cluster.example.", "kind": "Native", "nameservers": ["ns1.cluster.example."]}
    assert http(address, "POST", "/api/v1/servers/localhost/zones", None, zone)[0] == 401
    status, created = http(address, "POST", "/api/v1/servers/localhost/zones", "first-key", zone)
    assert status == 201, created
    # DNS on 53 over UDP and TCP
    soa = dig(address, "cluster.example.", "SOA").split()
    assert soa[1] == "hostmaster.cluster.example.", soa
    assert dig(address, "+tcp", "cluster.example.", "NS") == "ns1.cluster.example."

    # RFC 2136: an update signed with the zone's TSIG key is accepted, an unsigned one refused
    secret_b64 = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    tsig = {"name": "acme", "algorithm": "hmac-sha256", "key": secret_b64}
    assert http(address, "POST", "/api/v1/servers/localhost/tsigkeys", "first-key", tsig)[0] == 201
    allow = {"metadata": ["acme"]}
    metadata_path = "/api/v1/servers/localhost/zones/cluster.example./metadata/TSIG-ALLOW-DNSUPDATE"
    assert http(address, "PUT", metadata_path, "first-key", allow)[0] == 200
    assert nsupdate(address, "unsigned", None) != 0
    assert dig(address, "_acme-challenge.cluster.example.", "TXT") == ""
    assert nsupdate(address, "signed", f"hmac-sha256:acme:{secret_b64}") == 0
    assert dig(address, "_acme-challenge.cluster.example.", "TXT") == '"signed"'

    # a new key in the Secret changes nothing until the pod is replaced (a running container keeps its env) ...
    apply(live, secret("second-key"))
    time.sleep(3)
    assert answering(address, "first-key") and not answering(address, "second-key")
    # ... then the server is restarted with it, and the zone stays (the volume outlives the server)
    restarted = deployment()
    restarted["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    apply(live, restarted)
    wait_for(lambda: answering(address, "second-key"), 30, "the new API key in use")
    assert http(address, "GET", "/api/v1/servers/localhost", "first-key")[0] == 401
    assert dig(address, "cluster.example.", "NS") == "ns1.cluster.example."

    # the ConfigMap mounted on the whole folder: the image's startup.py could not write _api.conf there
    apply(live, deployment(folder_mount=True))
    wait_for(lambda: not answering(address, "second-key"), 30, "the server stopped")
    reasons = wait_for(lambda: [m for r, m in events(live) if r == "PowerDNSNotStarted"], 20, "the event")
    assert "Read-only file system: '/etc/powerdns/pdns.d/_api.conf'" in reasons[0]

    # back to a mount that works, then the Deployment goes: so does the server
    apply(live, restarted)
    wait_for(lambda: answering(address, "second-key"), 30, "the server back")
    client.AppsV1Api(live.api()).delete_namespaced_deployment("powerdns", NS)
    wait_for(lambda: not answering(address, "second-key"), 30, "the server stopped with its Deployment")
    assert "no servers could be reached" in dig(address, "cluster.example.", "NS")


@pytest.fixture(scope="module")
def tier2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("powerdns2"), control_planes=1, workers=1, controllers=True)
    try:
        yield cluster
    finally:
        cluster.close()


def test_with_the_controllers_pdns_runs_only_while_its_pod_does(tier2: LiveCluster) -> None:
    """With the second tier, the server runs once the Deployment has an available pod: not before a CNI makes the
    nodes Ready, and not while its volume claim cannot be bound (the sandbox, like a bare Talos cluster, has no
    StorageClass)."""
    from kubernetes import client

    live, address = tier2, f"{tier2.prefix}.53"
    install_crds(live, "metallb.io/ipaddresspool.yaml")
    for namespace in ("metallb-system", NS):
        apply(live, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    apply(
        live,
        {
            "apiVersion": "metallb.io/v1beta1",
            "kind": "IPAddressPool",
            "metadata": {"name": "dns-pool", "namespace": "metallb-system"},
            "spec": {"addresses": [f"{address}/32"]},
        },
    )
    metallb_controller(live)
    apply(live, secret("the-key"))
    config = {"pdns.conf": PDNS_CONF}
    apply(
        live,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "powerdns-config", "namespace": NS},
            "data": config,
        },
    )
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    apply(
        live,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "powerdns-data", "namespace": NS},
            "spec": claim,
        },
    )
    apply(live, deployment())
    ports = [{"name": "dns-udp", "port": 53, "protocol": "UDP"}, {"name": "api", "port": 8081, "protocol": "TCP"}]
    apply(
        live,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "powerdns", "namespace": NS, "annotations": {"metallb.io/address-pool": "dns-pool"}},
            "spec": {"type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "powerdns"}, "ports": ports},
        },
    )
    client.AppsV1Api(live.api()).create_namespaced_daemon_set("kube-system", cni_daemonset())
    core = client.CoreV1Api(live.api())

    def unschedulable() -> str:
        for pod in core.list_namespaced_pod(NS).items:
            for cond in pod.status.conditions or []:
                if (
                    cond.type == "PodScheduled"
                    and cond.reason == "Unschedulable"
                    and "PersistentVolumeClaim" in (cond.message or "")
                ):
                    return cond.message
        return ""

    message = wait_for(unschedulable, 60, "the pod unschedulable for its claim")
    assert "unbound immediate PersistentVolumeClaims" in message, message
    assert not answering(address, "the-key")

    # data on an emptyDir instead: the pod runs, and so does pdns_server
    unclaimed = deployment()
    unclaimed["spec"]["template"]["spec"]["volumes"][1] = {"name": "data", "emptyDir": {}}
    apply(live, unclaimed)
    wait_for(lambda: answering(address, "the-key"), 120, "pdns_server once the pod is available")
    assert http(address, "GET", "/api/v1/servers/localhost", None)[0] == 401
