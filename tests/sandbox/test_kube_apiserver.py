"""The sandbox cluster's real kube-apiserver and etcd, started by ``talosctl bootstrap`` with the cluster's PKI."""

from __future__ import annotations

import datetime
import json
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from kube_testlib import LiveCluster, cni_daemonset, ready, wait_for
from sandbox_testlib import REPO_ROOT

from sandbox.kube import certs
from sandbox.simulators.talos import pki

pytestmark = pytest.mark.slow
CRDS = REPO_ROOT / "tests" / "contracts" / "crds"


@pytest.fixture
def live(kube_cluster: LiveCluster) -> LiveCluster:
    """The session's cluster (conftest.py): three control planes and a worker; tests leave it as they found it."""
    return kube_cluster


def _kube_version() -> str:
    """The k8s.io/kubernetes version the sandbox's wrapper module builds."""
    text = (REPO_ROOT / "sandbox" / "gotools" / "kube" / "go.mod").read_text()
    return re.search(r"k8s\.io/kubernetes (v[0-9.]+)", text).group(1)


def test_the_api_server_is_the_kubernetes_release_talos_installs_by_default(live: LiveCluster) -> None:
    from kubernetes import client

    version = client.VersionApi(live.api()).get_code()
    # a config generated without --kubernetes-version names Talos's default in its kubelet image
    config = next(d for d in yaml.safe_load_all((live.sandbox.work / "out" / "controlplane.yaml").read_text()) if d)
    talos_default = config["machine"]["kubelet"]["image"].rsplit(":", 1)[1]
    assert version.git_version == _kube_version() == talos_default, (version.git_version, talos_default)
    assert (version.major, version.minor) == ("1", talos_default.split(".")[1])


def test_the_collections_kubeconfig_authenticates_and_another_ca_is_refused(live: LiveCluster, tmp_path: Path) -> None:
    from kubernetes import client

    # the kubeconfig is talosctl's, unchanged: it names the cluster endpoint and trusts the bundle's CA only
    kubeconfig = yaml.safe_load(live.kubeconfig.read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == live.endpoint
    namespaces = {item.metadata.name for item in client.CoreV1Api(live.api()).list_namespace().items}
    assert {"default", "kube-system", "kube-node-lease"} <= namespaces

    bundle_ca = pki.unb64(live.secrets["certs"]["k8s"]["crt"])
    (tmp_path / "ca.crt").write_bytes(bundle_ca)
    stranger_ca = pki.new_ca("ecdsa", "kubernetes")
    stranger = certs.issue_client(stranger_ca, "admin", ["system:masters"])
    certs.write_pair(tmp_path, "stranger", stranger)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))  # the server proves itself with the CA
    context.load_cert_chain(str(tmp_path / "stranger.crt"), str(tmp_path / "stranger.key"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{live.endpoint}/api/v1/namespaces", context=context, timeout=10)
    assert refused.value.code == 401

    # a client certificate from the cluster's CA without a group that may list namespaces is authenticated,
    # then refused by RBAC: the API server runs with the bundle's CA as its client CA
    ca = pki.CertAndKey(bundle_ca, pki.unb64(live.secrets["certs"]["k8s"]["key"]))
    certs.write_pair(tmp_path, "nobody", certs.issue_client(ca, "nobody", []))
    context.load_cert_chain(str(tmp_path / "nobody.crt"), str(tmp_path / "nobody.key"))
    with pytest.raises(urllib.error.HTTPError) as forbidden:
        urllib.request.urlopen(f"{live.endpoint}/api/v1/namespaces", context=context, timeout=10)
    assert forbidden.value.code == 403 and b'User \\"nobody\\" cannot list resource' in forbidden.value.read()


def _apply_crd(live: LiveCluster, path: Path) -> str:
    from kubernetes import client

    body = yaml.safe_load(path.read_text())
    api = client.ApiextensionsV1Api(live.api())
    api.create_custom_resource_definition(body)

    def established() -> bool:
        conditions = api.read_custom_resource_definition(body["metadata"]["name"]).status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    wait_for(established, 30, f"CRD {body['metadata']['name']} established")
    return body["metadata"]["name"]


def test_a_crd_from_the_contracts_validates_custom_resources(live: LiveCluster) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    _apply_crd(live, CRDS / "metallb.io" / "ipaddresspool.yaml")
    objects = client.CustomObjectsApi(live.api())
    client.CoreV1Api(live.api()).create_namespace({"metadata": {"name": "metallb-system"}})
    pool = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "ingress-pool"},
        "spec": {"addresses": ["10.5.0.100/32"], "autoAssign": False},
    }
    created = objects.create_namespaced_custom_object("metallb.io", "v1beta1", "metallb-system", "ipaddresspools", pool)
    assert created["spec"]["addresses"] == ["10.5.0.100/32"]

    wrong = {**pool, "metadata": {"name": "wrong"}, "spec": {"addresses": "10.5.0.101/32", "autoAssign": "no"}}
    with pytest.raises(ApiException) as refused:
        objects.create_namespaced_custom_object("metallb.io", "v1beta1", "metallb-system", "ipaddresspools", wrong)
    assert refused.value.status == 422
    message = json.loads(refused.value.body)["message"]
    assert message.startswith('IPAddressPool.metallb.io "wrong" is invalid: ')
    assert 'spec.addresses: Invalid value: "string": spec.addresses in body must be of type array' in message
    assert 'spec.autoAssign: Invalid value: "string": spec.autoAssign in body must be of type boolean' in message


def test_server_side_apply_through_the_python_client(live: LiveCluster) -> None:
    from kubernetes import dynamic
    from kubernetes.client.rest import ApiException

    configmaps = dynamic.DynamicClient(live.api()).resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa", "namespace": "default"},
        "data": {"owner": "talosforge"},
    }
    first = configmaps.server_side_apply(body=body, field_manager="talosforge", namespace="default")
    again = configmaps.server_side_apply(body=body, field_manager="talosforge", namespace="default")
    assert first.metadata.resourceVersion == again.metadata.resourceVersion  # the same intent changes nothing
    managers = [entry.manager for entry in again.metadata.managedFields]
    assert managers == ["talosforge"] and again.metadata.managedFields[0].operation == "Apply"

    other = {**body, "data": {"owner": "someone-else"}}
    with pytest.raises(ApiException) as conflict:
        configmaps.server_side_apply(body=other, field_manager="intruder", namespace="default")
    assert conflict.value.status == 409 and 'conflict with "talosforge"' in json.loads(conflict.value.body)["message"]
    forced = configmaps.server_side_apply(
        body=other, field_manager="intruder", namespace="default", force_conflicts=True
    )
    assert forced.data.owner == "someone-else"


def test_server_side_apply_through_kubernetes_core(live: LiveCluster, tmp_path: Path) -> None:
    playbook = tmp_path / "apply.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Apply a ConfigMap server-side",
                            "kubernetes.core.k8s": {
                                "kubeconfig": str(live.kubeconfig),
                                "apply": True,
                                "server_side_apply": {"field_manager": "talosforge-k8s"},
                                "definition": {
                                    "apiVersion": "v1",
                                    "kind": "ConfigMap",
                                    "metadata": {"name": "from-ansible", "namespace": "default"},
                                    "data": {"stage": "platform"},
                                },
                            },
                        }
                    ],
                }
            ]
        )
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        str(playbook),
    ]
    runs = [subprocess.run(command, capture_output=True, text=True, timeout=120, check=False) for _run in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"localhost\s+: ok=1\s+changed=1 ", runs[0].stdout), runs[0].stdout
    assert re.search(r"localhost\s+: ok=1\s+changed=0 ", runs[1].stdout), runs[1].stdout

    from kubernetes import client

    made = client.CoreV1Api(live.api()).read_namespaced_config_map("from-ansible", "default")
    assert made.data == {"stage": "platform"}
    assert [(f.manager, f.operation) for f in made.metadata.managed_fields] == [("talosforge-k8s", "Apply")]
    applies = [e for e in live.audit() if e.get("verb") == "patch" and e["objectRef"].get("name") == "from-ansible"]
    assert applies and all(e["user"]["username"] == "admin" for e in applies)


def test_nodes_register_not_ready_and_turn_ready_once_a_cni_is_installed(live: LiveCluster) -> None:
    from kubernetes import client

    nodes = wait_for(lambda: (found := live.nodes()) and len(found) == 4 and found, 30, "four Node objects")
    roles = {
        name: "node-role.kubernetes.io/control-plane" in (n["metadata"]["labels"] or {}) for name, n in nodes.items()
    }
    assert sorted(roles.values()) == [False, True, True, True]
    for node in nodes.values():
        assert ready(node) == "False"
        message = next(c["message"] for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert "cni plugin not initialized" in message
        assert node["status"]["node_info"]["kubelet_version"] == _kube_version()
        address = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        assert address in live.control_planes + live.workers
    control_plane = next(
        n for n in nodes.values() if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]
    )
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in [
        {"key": t["key"], "effect": t["effect"]} for t in control_plane["spec"]["taints"]
    ]
    # the kubelet identities are the nodes' own: the Node authorizer let each create only its own object
    creators = {
        e["user"]["username"]
        for e in live.audit()
        if e.get("verb") == "create" and e["objectRef"].get("resource") == "nodes"
    }
    assert creators == {f"system:node:{name}" for name in nodes}

    apps = client.AppsV1Api(live.api())
    apps.create_namespaced_daemon_set("kube-system", cni_daemonset())
    try:
        wait_for(lambda: all(ready(n) == "True" for n in live.nodes().values()), 30, "every node Ready")
    finally:
        apps.delete_namespaced_daemon_set("cilium", "kube-system")
    wait_for(lambda: all(ready(n) == "False" for n in live.nodes().values()), 30, "NotReady again without a CNI")


def test_a_reset_node_leaves_the_api_and_a_control_plane_leaves_etcd(tmp_path: Path) -> None:
    live = LiveCluster.create(tmp_path, control_planes=2, workers=1, name="shrink")
    try:
        _reset_and_leave(live)
    finally:
        live.close()


def _reset_and_leave(live: LiveCluster) -> None:
    worker = live.workers[0]
    hostname = live.sandbox.node(worker)["hostname"]
    wait_for(lambda: hostname in live.nodes(), 30, "the worker registered")
    live.sandbox.ok("reset", "--graceful=false", *live.mtls(worker))
    wait_for(lambda: hostname not in live.nodes(), 30, "the reset worker's Node object deleted")

    members = live.sandbox.ok("etcd", "members", *live.mtls(live.control_planes[0])).stdout
    assert len(members.strip().splitlines()) == 1 + len(live.control_planes)
    leaving = live.control_planes[-1]
    live.sandbox.ok("etcd", "leave", *live.mtls(leaving))
    after = live.real().members()
    assert [m for m in after if f"https://{leaving}:2380" in m["peer_urls"]] == []
    assert len(after) == len(live.control_planes) - 1


def test_status_shows_the_api_server(live: LiveCluster) -> None:
    status = live.real().status()
    assert status.ready and status.url == live.endpoint and status.objects and status.objects > 100
    assert "kube-apiserver" in status.line() and live.endpoint in status.line()


def test_an_etcd_snapshot_is_real_and_a_recovery_restores_it(tmp_path: Path) -> None:
    from kubernetes import client

    live = LiveCluster.create(tmp_path, control_planes=1, workers=0, name="drill")
    try:
        core = client.CoreV1Api(live.api())
        core.create_namespaced_config_map("default", {"metadata": {"name": "a"}, "data": {"k": "before"}})
        snap = live.sandbox.ok("etcd", "snapshot", "db.snapshot", *live.mtls(live.control_planes[0])).stdout
        assert re.search(r"snapshot info: hash [0-9a-f]{8}, revision \d+, total keys \d+, total size \d+", snap)
        assert (live.sandbox.work / "db.snapshot").read_bytes()[:0] == b""  # written, 0600
        assert (live.sandbox.work / "db.snapshot").stat().st_mode & 0o777 == 0o600
        core.create_namespaced_config_map("default", {"metadata": {"name": "b"}, "data": {"k": "after"}})

        # disaster recovery as Talos documents it: wipe the control plane, configure it, recover from the snapshot
        node = live.control_planes[0]
        live.sandbox.ok("reset", "--graceful=false", "--reboot", *live.mtls(node))
        live.sandbox.ok("apply-config", "--insecure", "-n", node, "-e", node, "--file", "out/controlplane.yaml")
        recovered = live.sandbox.ok("bootstrap", "--recover-from", "db.snapshot", *live.mtls(node)).stdout
        assert 'recovering from snapshot "db.snapshot"' in recovered
        live.real().apiserver.wait_ready()
        names = {
            item.metadata.name for item in client.CoreV1Api(live.api()).list_namespaced_config_map("default").items
        }
        assert "a" in names and "b" not in names
        assert client.CoreV1Api(live.api()).read_namespaced_config_map("a", "default").data == {"k": "before"}
    finally:
        live.close()


def test_a_file_that_is_not_an_etcd_snapshot_is_refused(tmp_path: Path) -> None:
    live = LiveCluster.create(tmp_path, control_planes=1, workers=0, name="refuse")
    try:
        (live.sandbox.work / "junk.snapshot").write_bytes(b"not a database" * 100)
        node = live.control_planes[0]
        live.sandbox.ok("reset", "--graceful=false", "--reboot", *live.mtls(node))
        live.sandbox.ok("apply-config", "--insecure", "-n", node, "-e", node, "--file", "out/controlplane.yaml")
        refused = live.sandbox.fails("bootstrap", "--recover-from", "junk.snapshot", *live.mtls(node))
        assert "junk.snapshot is not an etcd snapshot" in refused.stderr
    finally:
        live.close()


def test_api_server_certificates_are_signed_by_the_bundle_cas(live: LiveCluster) -> None:
    served = ssl.get_server_certificate((f"{live.prefix}.10", 6443)).encode()
    assert pki.signed_by(served, pki.unb64(live.secrets["certs"]["k8s"]["crt"]))
    assert pki.not_after(served) > datetime.datetime.now(datetime.UTC)
