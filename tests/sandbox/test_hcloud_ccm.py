"""The hcloud CCM stand-in (sandbox/kube/hcloud_ccm.py) against the sandbox's real kube-apiserver and the Hetzner
Cloud simulator with contract validation on: the CCM Deployment as the stand-in chart renders it with the
collection's values, Nodes initialised from their servers, routes for their pod CIDRs, a load balancer per Service of
type LoadBalancer and its addresses, every request valid against cloud.spec.json, and quiet passes that write
nothing."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hcloud_testlib import api, checked_simulator, spec_problems, succeeded
from kube_testlib import LiveCluster, wait_for
from sandbox_testlib import REPO_ROOT

from sandbox.gotools import binary
from sandbox.harness import RunningSimulator
from sandbox.kube import hcloud_ccm
from sandbox.kube.hcloud_ccm_lbs import FINALIZER, UID_LABEL

pytestmark = pytest.mark.slow
CHART = REPO_ROOT / "sandbox" / "charts" / "hcloud-cloud-controller-manager"
WRITE_VERBS = {"create", "update", "patch", "delete"}
POD_CIDR = "10.244.0.0/16"


class Lab:
    def __init__(self, cluster: LiveCluster, simulator: RunningSimulator) -> None:
        self.cluster = cluster
        self.sim = simulator

    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.cluster.api())

    def hcloud(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        return succeeded(api(self.sim, method, "/v1" + path, body))

    def node(self, name: str) -> dict[str, Any]:
        core = self.core()
        return core.api_client.sanitize_for_serialization(core.read_node(name))

    def ccm_writes(self) -> int:
        return sum(
            1
            for event in self.cluster.audit()
            if event["user"]["username"] == hcloud_ccm.USER and event["verb"] in WRITE_VERBS
        )

    def sim_writes(self) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.sim.requests() if r["method"] != "GET"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("hcloudccm")
    with checked_simulator(root) as simulator:
        cluster = LiveCluster.create(root / "cluster", control_planes=1, workers=0)
        try:
            yield Lab(cluster, simulator)
        finally:
            cluster.close()  # before the simulator's own contract check of its whole log


def rendered_ccm(endpoint: str) -> list[dict[str, Any]]:
    """The stand-in chart rendered by the real helm with the collection's values for a cluster on Hetzner Cloud
    (networking on, KubePrism) and the sandbox inventory's HCLOUD_ENDPOINT."""
    values = {
        "networking": {"enabled": True, "clusterCIDR": POD_CIDR},
        "env": {
            "KUBERNETES_SERVICE_HOST": {"value": "127.0.0.1"},
            "KUBERNETES_SERVICE_PORT": {"value": "7445"},
            "HCLOUD_ENDPOINT": {"value": endpoint},
        },
    }
    command = [str(binary("helm")), "template", "hcloud-ccm", str(CHART), "-n", "kube-system", "-f", "-"]
    out = subprocess.run(command, input=yaml.safe_dump(values), capture_output=True, text=True, check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def create(lab: Lab, body: dict[str, Any]) -> None:
    from kubernetes import dynamic

    resource = dynamic.DynamicClient(lab.cluster.api()).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    resource.create(body=body, namespace=body["metadata"].get("namespace"))


def tainted_node(name: str, pod_cidr: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"taints": [{"key": hcloud_ccm.TAINT, "value": "true", "effect": "NoSchedule"}]}
    if pod_cidr:
        spec["podCIDR"], spec["podCIDRs"] = pod_cidr, [pod_cidr]
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}


def test_nodes_routes_and_a_load_balancer_through_the_hcloud_api(lab: Lab) -> None:
    net = lab.hcloud(
        "POST",
        "/networks",
        {
            "name": "ccm-net",
            "ip_range": "10.0.0.0/16",
            "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}],
        },
    )["network"]
    servers = {}
    for name, kind in (("ccm-cp-1", "cx22"), ("ccm-worker-1", "cx32")):
        body = {"name": name, "server_type": kind, "image": "debian-12", "location": "fsn1", "networks": [net["id"]]}
        servers[name] = lab.hcloud("POST", "/servers", body)["server"]
    servers = {name: lab.hcloud("GET", f"/servers/{s['id']}")["server"] for name, s in servers.items()}
    private = {name: s["private_net"][0]["ip"] for name, s in servers.items()}

    # what the platform role makes: the Secret, then the chart's Deployment (here rendered and created directly)
    secret = {"token": "sandbox-token-not-a-secret", "network": "ccm-net"}
    create(
        lab,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "hcloud", "namespace": "kube-system"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in secret.items()},
        },
    )
    before = len(lab.sim.requests())
    documents = rendered_ccm(lab.sim.url + "/v1")
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    assert deployment["metadata"]["name"] == "hcloud-cloud-controller-manager"
    for document in documents:
        create(lab, document)
    create(lab, tainted_node("ccm-cp-1", "10.244.1.0/24"))
    create(lab, tainted_node("ccm-worker-1", "10.244.2.0/24"))
    create(lab, tainted_node("ccm-ghost", None))

    # node controller: provider ID, labels, addresses, taint gone; a Node without a server keeps it, with an event
    def initialised(name: str) -> bool:
        node = lab.node(name)
        taints = [t["key"] for t in node["spec"].get("taints") or []]
        return node["spec"].get("providerID") == f"hcloud://{servers[name]['id']}" and hcloud_ccm.TAINT not in taints

    for name in servers:
        wait_for(lambda n=name: initialised(n), 30, f"{name} initialised")
    worker = lab.node("ccm-worker-1")
    labels = worker["metadata"]["labels"]
    assert labels["node.kubernetes.io/instance-type"] == "cx32"
    assert labels["topology.kubernetes.io/region"] == "fsn1"
    assert labels["topology.kubernetes.io/zone"] == "fsn1-dc14"
    assert labels["instance.hetzner.cloud/provided-by"] == "cloud"
    public = servers["ccm-worker-1"]["public_net"]["ipv4"]["ip"]
    assert worker["status"]["addresses"] == [
        {"type": "Hostname", "address": "ccm-worker-1"},
        {"type": "ExternalIP", "address": public},
        {"type": "InternalIP", "address": private["ccm-worker-1"]},
    ]

    def ghost_events() -> list[tuple[str, str, str]]:
        found = lab.core().list_namespaced_event("default", field_selector="involvedObject.name=ccm-ghost").items
        return [(e.type, e.reason, e.message) for e in found]

    wait_for(ghost_events, 20, "an event for the Node without a server")
    assert ghost_events()[0][:2] == ("Warning", "FailedToInitialize")
    assert "no matching server found for node 'ccm-ghost'" in ghost_events()[0][2]
    assert hcloud_ccm.TAINT in [t["key"] for t in lab.node("ccm-ghost")["spec"]["taints"]]

    # route controller: one route per pod CIDR through the node's private address
    def routes() -> list[dict[str, str]]:
        return sorted(lab.hcloud("GET", f"/networks/{net['id']}")["network"]["routes"], key=lambda r: r["destination"])

    wanted_routes = [
        {"destination": "10.244.1.0/24", "gateway": private["ccm-cp-1"]},
        {"destination": "10.244.2.0/24", "gateway": private["ccm-worker-1"]},
    ]
    wait_for(lambda: routes() == wanted_routes, 20, "the routes")

    # service controller: a load balancer in fsn1 on the network, a service per port, private server targets
    annotations = {
        "load-balancer.hetzner.cloud/name": "ccm-web",
        "load-balancer.hetzner.cloud/location": "fsn1",
        "load-balancer.hetzner.cloud/use-private-ip": "true",
    }
    ports = [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8443}]
    spec = {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": ports}
    metadata = {"name": "web", "namespace": "default", "annotations": annotations}
    create(lab, {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec})

    def ingress() -> list[dict[str, Any]]:
        status = lab.core().read_namespaced_service("web", "default").status
        return [{"ip": i.ip, "ipMode": i.ip_mode} for i in (status.load_balancer.ingress or [])]

    wait_for(ingress, 30, "the Service's addresses")
    (lb,) = lab.hcloud("GET", "/load_balancers")["load_balancers"]
    live = lab.core().read_namespaced_service("web", "default")
    assert lb["name"] == "ccm-web"
    assert lb["location"]["name"] == "fsn1"
    assert lb["load_balancer_type"]["name"] == "lb11"
    assert lb["labels"] == {UID_LABEL: live.metadata.uid}
    assert [p["network"] for p in lb["private_net"]] == [net["id"]]
    node_ports = {p.port: p.node_port for p in live.spec.ports}
    assert sorted((s["listen_port"], s["destination_port"], s["protocol"]) for s in lb["services"]) == [
        (80, node_ports[80], "tcp"),
        (443, node_ports[443], "tcp"),
    ]
    targets = sorted((t["server"]["id"], t["use_private_ip"]) for t in lb["targets"])
    assert targets == sorted((s["id"], True) for s in servers.values())
    # the public IPv4 (127.88.x in the sandbox), then the private address: the real CCM's default private ingress
    assert lb["public_net"]["ipv4"]["ip"].startswith("127.88.")
    assert ingress() == [
        {"ip": lb["public_net"]["ipv4"]["ip"], "ipMode": "VIP"},
        {"ip": lb["private_net"][0]["ip"], "ipMode": "VIP"},
    ]
    assert FINALIZER in live.metadata.finalizers

    # every request the stand-in sent was valid against the contract, and so was every answer
    ours = lab.sim.requests()[before:]
    assert {"POST /v1/load_balancers", f"POST /v1/networks/{net['id']}/actions/add_route"} <= {
        f"{r['method']} {r['path']}" for r in ours
    }
    assert spec_problems(ours) == []
    assert all(r["status"] < 400 for r in ours), [(r["method"], r["path"], r["response_body"]) for r in ours]

    # quiet: the running stand-in writes nothing more, to either API; a fresh pass (full resync) neither
    time.sleep(2.5)
    kube_writes, sim_writes = lab.ccm_writes(), lab.sim_writes()
    time.sleep(3)
    assert (lab.ccm_writes(), lab.sim_writes()) == (kube_writes, sim_writes)
    lab.core().delete_node("ccm-ghost")
    time.sleep(1.5)
    kube_writes = lab.ccm_writes()
    ccm = hcloud_ccm.HcloudCcm(hcloud_ccm.identity(lab.cluster.real().dir))
    first = ccm.reconcile(resync=True)
    assert first["hcloud_writes"] == 0
    second = ccm.reconcile(resync=False)
    assert (second["hcloud_reads"], second["hcloud_writes"]) == (0, 0)
    assert (lab.ccm_writes(), lab.sim_writes()) == (kube_writes, sim_writes)
    # the full pass: the network by name (once per process), the servers, the network's routes, the load balancers
    assert first["hcloud_reads"] == 4

    # a deleted Service: its load balancer goes, then the Service (the finalizer is removed)
    lab.core().delete_namespaced_service("web", "default")
    wait_for(lambda: not lab.hcloud("GET", "/load_balancers")["load_balancers"], 30, "the load balancer deleted")

    def service_gone() -> bool:
        return "web" not in [s.metadata.name for s in lab.core().list_namespaced_service("default").items]

    wait_for(service_gone, 20, "the Service gone")

    # a server outside the network: its Node is initialised, but no route can lead to it (the real reason, an event)
    body = {"name": "ccm-worker-2", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
    lab.hcloud("POST", "/servers", body)
    create(lab, tainted_node("ccm-worker-2", "10.244.3.0/24"))

    def route_events() -> list[str]:
        found = lab.core().list_namespaced_event("default", field_selector="involvedObject.name=ccm-worker-2").items
        return [f"{e.reason}: {e.message}" for e in found if e.reason == "FailedToCreateRoute"]

    wait_for(route_events, 20, "a FailedToCreateRoute event")
    assert route_events() == [
        f"FailedToCreateRoute: Could not create route 10.244.3.0/24 for node ccm-worker-2: network with id "
        f"{net['id']} not attached to this server"
    ]
    assert routes() == wanted_routes
    assert spec_problems(lab.sim.requests()) == []


def test_a_ccm_pointed_at_the_real_hetzner_cloud_does_nothing(lab: Lab) -> None:
    """Without HCLOUD_ENDPOINT (the real API's default) the stand-in only says why it does nothing."""
    from kubernetes import client

    apps = client.AppsV1Api(lab.cluster.api())
    if not apps.list_namespaced_deployment("kube-system").items:
        pytest.skip("runs after the main test, which creates the CCM Deployment")
    deployment = apps.read_namespaced_deployment("hcloud-cloud-controller-manager", "kube-system")
    container = deployment.spec.template.spec.containers[0]
    container.env = [e for e in container.env if e.name != "HCLOUD_ENDPOINT"]
    apps.replace_namespaced_deployment("hcloud-cloud-controller-manager", "kube-system", deployment)
    create(lab, tainted_node("far-away", None))
    before = len(lab.sim.requests())
    ccm = hcloud_ccm.HcloudCcm(hcloud_ccm.identity(lab.cluster.real().dir))
    done = ccm.reconcile(resync=True)
    assert done["acting"] is False
    assert "https://api.hetzner.cloud/v1 is not a loopback address" in done["why"]
    time.sleep(2)
    assert len(lab.sim.requests()) == before
    assert hcloud_ccm.TAINT in [t["key"] for t in lab.node("far-away")["spec"]["taints"]]
