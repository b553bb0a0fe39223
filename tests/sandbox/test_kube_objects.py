# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_objects against the sandbox's real kube-apiserver: the real CRDs' schemas, server-side apply, no-op runs
that send no write (counted in the API server's audit log), check mode, deletion and expectations."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure
from ansible_collections.talosforge.cluster.plugins.module_utils._kube import kubeconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.client import KubeClient
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.objects_apply import run
from ansible_collections.talosforge.cluster.plugins.modules import kube_objects
from kube_testlib import LiveCluster, cni_daemonset
from sandbox_testlib import REPO_ROOT

pytestmark = pytest.mark.slow
CRDS = REPO_ROOT / "tests" / "contracts" / "crds"
AGENT = "talosforge.cluster/kube_objects"
WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "web"}
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("kubeobjects"), control_planes=1, workers=1)
    try:
        yield cluster
    finally:
        cluster.close()


def crd(group: str, name: str) -> dict[str, Any]:
    return yaml.safe_load((CRDS / group / f"{name}.yaml").read_text())


def pool(name: str, namespace: str, *addresses: str) -> dict[str, Any]:
    return {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"addresses": list(addresses)},
    }


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"team": "platform"}}}


def configmap(name: str, ns: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def call(live: LiveCluster, objects: list[dict[str, Any]], check_mode: bool = False, **params: Any) -> dict[str, Any]:
    return run({"kubeconfig": str(live.kubeconfig), "objects": objects, **params}, check_mode)


def admin(live: LiveCluster) -> KubeClient:
    return KubeClient(kubeconfig.connection(str(live.kubeconfig)))


class Writes:
    """Write requests the module sent, from the API server's audit log (dry runs are not writes)."""

    def __init__(self, live: LiveCluster):
        self.live = live
        self.seen = self._ours()

    def _ours(self) -> int:
        return len(self._events())

    def _events(self) -> list[dict[str, Any]]:
        return [
            event
            for event in self.live.audit()
            if event.get("userAgent") == AGENT
            and event.get("verb") in WRITE_VERBS
            and event.get("stage") == "ResponseComplete"
            and "dryRun=All" not in event.get("requestURI", "")
        ]

    def since(self) -> list[str]:
        events = self._events()[self.seen :]
        self.seen += len(events)
        return [f"{event['verb']} {event['requestURI'].split('?')[0]}" for event in events]


def test_namespace_crd_and_resource_in_one_call_then_a_noop_sends_no_write(live: LiveCluster) -> None:
    writes = Writes(live)
    objects = [
        pool("ingress-pool", "metallb-system", "127.5.1.240/30"),
        namespace("metallb-system"),
        crd("metallb.io", "ipaddresspool"),
    ]
    first = call(live, objects)
    assert first["changed"] is True
    assert [(o["kind"], o["action"]) for o in first["objects"]] == [
        ("IPAddressPool", "created"),
        ("Namespace", "created"),
        ("CustomResourceDefinition", "created"),
    ]
    made = writes.since()
    # Namespace and CRD first, the pool after them, whatever their order in the task
    assert made[-1].endswith("/namespaces/metallb-system/ipaddresspools/ingress-pool"), made
    assert len(made) == 3, made

    again = call(live, objects)
    assert again["changed"] is False
    assert {o["action"] for o in again["objects"]} == {"unchanged"}
    assert writes.since() == []
    assert set(again["api_requests"]) == {"GET"}, again["api_requests"]


def test_a_change_updates_only_that_object(live: LiveCluster) -> None:
    objects = [namespace("apps"), configmap("one", "apps", a="1"), configmap("two", "apps", b="2")]
    call(live, objects)
    writes = Writes(live)
    changed = copy.deepcopy(objects)
    changed[2]["data"]["b"] = "3"
    result = call(live, changed)
    assert [o["action"] for o in result["objects"]] == ["unchanged", "unchanged", "updated"]
    assert writes.since() == ["patch /api/v1/namespaces/apps/configmaps/two"]
    assert admin(live).get("/api/v1/namespaces/apps/configmaps/two")["data"] == {"b": "3"}


def test_an_object_the_crd_schema_refuses_fails_with_the_api_servers_words_and_nothing_is_written(
    live: LiveCluster,
) -> None:
    call(live, [namespace("metallb-system"), crd("metallb.io", "ipaddresspool")])
    writes = Writes(live)
    objects = [
        namespace("refused"),
        configmap("kept-out", "metallb-system", a="1"),
        pool("good", "metallb-system", "127.5.2.0/30"),
        {**pool("bad", "metallb-system"), "spec": {"autoAssign": False}},  # the schema requires addresses
    ]
    with pytest.raises(PartialFailure) as failed:
        call(live, objects)
    message = str(failed.value)
    assert message.startswith("Nothing was written"), message
    assert "IPAddressPool metallb-system/bad: " in message
    assert "spec.addresses: Required value" in message, message  # the API server's own words
    assert [f["name"] for f in failed.value.failures] == ["IPAddressPool metallb-system/bad"]
    assert failed.value.failures[0]["failure"]["status"] == 422
    assert failed.value.result["objects"] == []
    assert writes.since() == []
    assert admin(live).get("/api/v1/namespaces/refused", missing_ok=True) is None


def test_a_resource_whose_new_crd_refuses_it_leaves_only_the_namespace_and_crd_written(live: LiveCluster) -> None:
    """Objects of a CRD created by the same call can only be checked once it exists: then nothing else is written."""
    writes = Writes(live)
    ippool = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumLoadBalancerIPPool",
        "metadata": {"name": "x"},
        "spec": {"blocks": [{"cidr": "not-a-cidr"}]},
    }
    objects = [crd("cilium.io", "ciliumloadbalancerippool"), ippool, configmap("after", "default", a="1")]
    with pytest.raises(PartialFailure) as failed:
        call(live, objects)
    message = str(failed.value)
    assert message.startswith("Only the Namespaces and CRDs before them were written"), message
    assert "CiliumLoadBalancerIPPool x: " in message and "spec.blocks[0].cidr" in message, message
    assert [(o["kind"], o["action"]) for o in failed.value.result["objects"]] == [
        ("CustomResourceDefinition", "created")
    ]
    assert writes.since() == ["patch /apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + crd_name()]
    assert admin(live).get("/api/v1/namespaces/default/configmaps/after", missing_ok=True) is None


def crd_name() -> str:
    return crd("cilium.io", "ciliumloadbalancerippool")["metadata"]["name"]


def test_check_mode_shows_a_masked_diff_and_writes_nothing(live: LiveCluster, capsys: pytest.CaptureFixture) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "api", "namespace": "default"},
        "stringData": {"api-key": "first-secret-value"},
    }
    call(live, [secret, configmap("shown", "default", a="1")])
    writes = Writes(live)
    changed = [
        {**secret, "stringData": {"api-key": "second-secret-value"}},
        configmap("shown", "default", a="2"),
        namespace("planned"),
        configmap("new", "planned", a="1"),
    ]
    args = {"kubeconfig": str(live.kubeconfig), "objects": changed, "_ansible_check_mode": True, "_ansible_diff": True}
    with patch_module_args(args), pytest.raises(SystemExit):
        kube_objects.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert "secret-value" not in out and "c2Vjb25k" not in out  # neither the value nor its base64
    assert [o["action"] for o in result["objects"]] == ["updated", "updated", "created", "created"]
    diffs = {d["before_header"]: d for d in result["diff"]}
    shown = diffs["ConfigMap default/shown"]
    assert "a: '1'" in shown["before"] and "a: '2'" in shown["after"]
    assert "api-key: '******** (changed)'" in diffs["Secret default/api"]["after"], diffs["Secret default/api"]
    assert diffs["ConfigMap planned/new"]["before"] == ""
    assert writes.since() == []
    assert admin(live).get("/api/v1/namespaces/default/configmaps/shown")["data"] == {"a": "1"}


def test_absent_deletes_and_a_second_run_changes_nothing(live: LiveCluster) -> None:
    objects = [namespace("gone"), configmap("gone", "gone", a="1")]
    call(live, objects)
    writes = Writes(live)
    result = call(live, objects, state="absent")
    assert [o["action"] for o in result["objects"]] == ["deleted", "deleted"]
    assert writes.since() == ["delete /api/v1/namespaces/gone/configmaps/gone", "delete /api/v1/namespaces/gone"]
    again = call(live, [configmap("gone", "gone", a="1"), configmap("never", "default")], state="absent")
    assert again["changed"] is False and writes.since() == []


def _set_status(live: LiveCluster, path: str, status: dict[str, Any]) -> None:
    admin(live).request("PATCH", path + "/status", body={"status": status}, content_type="application/merge-patch+json")


def test_expectations_report_pending_then_wait_for_the_controllers(live: LiveCluster) -> None:
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        # a class no load-balancer controller claims (neither the sandbox's LB-IPAM stand-in nor a real one):
        # the test plays the controller
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": "example.org/played-by-the-test",
            "selector": labels,
            "ports": [{"port": 80}],
        },
    }
    expect = [
        {**WEB, "ready": True},
        {"apiVersion": "v1", "kind": "Service", "namespace": "default", "name": "web", "address": True},
        {**WEB, "condition": "Available"},
    ]
    reported = call(live, [deployment, service], expect=expect)
    assert [p["why"] for p in reported["pending"]] == [
        "its controller has not seen the latest change yet",
        "no load-balancer address assigned yet (is the pool it is pinned to there and not full?)",
        "condition Available not reported yet",
    ]
    assert reported["addresses"] == {}
    started = time.monotonic()
    with pytest.raises(PartialFailure) as failed:
        call(live, [deployment, service], expect=expect, wait_timeout=2)
    assert 2 <= time.monotonic() - started < 10
    assert "3 of 3 expectations not met within 2 s" in str(failed.value)
    assert "Service default/web: no load-balancer address" in str(failed.value)

    # the controllers' part, played by the test through the status subresources (the IPAM stand-in's and the
    # Deployment controller's writes)
    _set_status(live, "/api/v1/namespaces/default/services/web", {"loadBalancer": {"ingress": [{"ip": "127.5.1.241"}]}})
    generation = admin(live).get("/apis/apps/v1/namespaces/default/deployments/web")["metadata"]["generation"]
    _set_status(
        live,
        "/apis/apps/v1/namespaces/default/deployments/web",
        {
            "observedGeneration": generation,
            "replicas": 2,
            "availableReplicas": 2,
            "readyReplicas": 2,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}],
        },
    )
    met = call(live, [deployment, service], expect=expect, wait_timeout=5)
    assert met["pending"] == [] and met["changed"] is False
    assert met["addresses"] == {"default/web": "127.5.1.241"}


def test_nodes_turn_ready_once_the_cni_daemonset_is_applied(live: LiveCluster) -> None:
    listed = admin(live).get("/api/v1/nodes")["items"]  # the kubelet stand-in registered them
    names = [item["metadata"]["name"] for item in listed]
    assert len(names) == 2, names
    registered = [{"apiVersion": "v1", "kind": "Node", "name": name} for name in names]
    assert call(live, [], expect=registered, wait_timeout=5)["pending"] == []  # registered: all the talos role awaits
    expect = [{**entry, "ready": True} for entry in registered]
    before = call(live, [], expect=expect)
    assert before["pending"] and "cni plugin not initialized" in before["pending"][0]["why"], before["pending"]
    daemonset = {"apiVersion": "apps/v1", "kind": "DaemonSet", **cni_daemonset()}
    after = call(live, [daemonset], expect=expect, wait_timeout=60)
    assert after["pending"] == []


def twenty_objects() -> list[dict[str, Any]]:
    """A platform-like mix: Namespace, CRD and its pools, a Secret, a Deployment with quantities, a Service."""
    labels = {"app": "bench"}
    workload = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bench", "namespace": "bench"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx",
                            # kept by the API server as 500m and 134217728: equal by value
                            "resources": {"requests": {"cpu": "0.5", "memory": "128Mi"}, "limits": {"cpu": 1}},
                        }
                    ]
                },
            },
        },
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bench", "namespace": "bench"},
        "stringData": {"token": "bench-token-value"},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "bench", "namespace": "bench"},
        "spec": {"selector": labels, "ports": [{"name": "http", "port": 80}]},
    }
    pools = [pool(f"bench-{n}", "metallb-system", f"127.5.9.{n * 4}/30") for n in range(3)]
    configmaps = [configmap(f"c{n}", "bench", value=str(n)) for n in range(11)]
    fixed = [namespace("bench"), namespace("metallb-system"), crd("metallb.io", "ipaddresspool")]
    return [*fixed, *pools, secret, workload, service, *configmaps]


def test_a_noop_run_of_twenty_objects(live: LiveCluster, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    objects = twenty_objects()
    assert len(objects) == 20
    call(live, objects)
    writes = Writes(live)
    started = time.monotonic()
    result = call(live, objects)
    elapsed = time.monotonic() - started
    assert result["changed"] is False and writes.since() == []
    assert set(result["api_requests"]) == {"GET"}, result["api_requests"]  # not even a dry run: all held as read

    # the whole module as Ansible runs it: a new Python process, imports included
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"kubeconfig": str(live.kubeconfig), "objects": objects}}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / ".build" / "collections"), str(REPO_ROOT)])}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, kube_objects.__file__, str(args)], env=env, capture_output=True, text=True, check=True
    )
    process = time.monotonic() - started
    answer = json.loads(done.stdout)
    assert answer["changed"] is False and writes.since() == []
    assert "bench-token-value" not in done.stdout
    with capsys.disabled():
        print(
            f"\nkube_objects no-op, 20 objects: {elapsed * 1000:.0f} ms in-process, {process * 1000:.0f} ms as a"
            f" module process; requests {result['api_requests']}, writes 0 (audit log)"
        )
    assert elapsed < 5 and process < 5, (elapsed, process)


def test_an_exec_kubeconfig_is_refused_clearly(tmp_path: Path, live: LiveCluster) -> None:
    config = yaml.safe_load(live.kubeconfig.read_text())
    config["users"][0]["user"] = {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(kubeconfig.KubeconfigError, match="authenticates with exec, which kube_objects does not"):
        run({"kubeconfig": str(path), "objects": []}, False)
