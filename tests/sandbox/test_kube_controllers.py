"""The second tier: kube-controller-manager, kube-scheduler and kwok make workloads run on the sandbox's nodes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kube_testlib import LiveCluster, cni_daemonset, ready, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("tier2"), control_planes=1, workers=2, controllers=True)
    try:
        yield cluster
    finally:
        cluster.close()


def _pods(live: LiveCluster, namespace: str, selector: str) -> list:
    from kubernetes import client

    return client.CoreV1Api(live.api()).list_namespaced_pod(namespace, label_selector=selector).items


def _deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": "nginx"}]}},
        },
    }


def test_workloads_wait_for_a_cni_then_run(live: LiveCluster) -> None:
    from kubernetes import client

    apps, core = client.AppsV1Api(live.api()), client.CoreV1Api(live.api())
    # the controller manager did its part: every node has a pod CIDR from the cluster's pod subnet, and every
    # namespace its default ServiceAccount (the ServiceAccount admission plugin is on in this tier)
    nodes = wait_for(
        lambda: (found := live.nodes()) and all(n["spec"]["pod_cidr"] for n in found.values()) and found,
        30,
        "pod CIDRs allocated",
    )
    assert all(n["spec"]["pod_cidr"].startswith("10.244.") for n in nodes.values())

    def accounts() -> set[str]:
        return {account.metadata.name for account in core.list_namespaced_service_account("default").items}

    wait_for(lambda: "default" in accounts(), 30, "the default ServiceAccount")

    apps.create_namespaced_deployment("default", _deployment("web", 2))
    pending = wait_for(lambda: (pods := _pods(live, "default", "app=web")) and len(pods) == 2 and pods, 30, "2 pods")
    # no CNI yet: every node is NotReady and tainted, so the scheduler binds nothing
    assert {pod.status.phase for pod in pending} == {"Pending"} and {pod.spec.node_name for pod in pending} == {None}

    apps.create_namespaced_daemon_set("kube-system", cni_daemonset())

    def daemonset_ready() -> bool:
        status = apps.read_namespaced_daemon_set("cilium", "kube-system").status
        return status.desired_number_scheduled == 3 and status.number_ready == 3

    # under a loaded CI machine (every test cluster runs its etcd, API server and stand-ins) this took over 120 s
    wait_for(daemonset_ready, 300, "a cilium agent Running on each of the 3 nodes")
    agents = _pods(live, "kube-system", "k8s-app=cilium")
    addresses = set(live.control_planes + live.workers)
    assert {pod.status.pod_ip for pod in agents} == addresses  # host network: the node's address
    wait_for(lambda: all(ready(node) == "True" for node in live.nodes().values()), 30, "every node Ready")

    def available() -> bool:
        return (apps.read_namespaced_deployment("web", "default").status.available_replicas or 0) == 2

    try:  # as loaded as the DaemonSet's wait above: a CI run timed out at 120 s with both pods Running
        wait_for(available, 300, "the Deployment available")
    except AssertionError:
        pods = [(pod.metadata.name, pod.spec.node_name, pod.status.phase) for pod in _pods(live, "default", "app=web")]
        taints = {name: node["spec"]["taints"] for name, node in live.nodes().items()}
        raise AssertionError(f"the Deployment is not available: pods {pods}, node taints {taints}") from None
    web = _pods(live, "default", "app=web")
    workers = {live.sandbox.node(address)["hostname"] for address in live.workers}
    assert {pod.spec.node_name for pod in web} <= workers  # the control plane keeps its NoSchedule taint
    assert all(pod.status.pod_ip.startswith("10.244.") for pod in web)


def test_a_job_completes_and_a_deleted_namespace_goes(live: LiveCluster) -> None:
    from kubernetes import client

    core, batch = client.CoreV1Api(live.api()), client.BatchV1Api(live.api())
    core.create_namespace({"metadata": {"name": "scratch"}})
    job = {
        "metadata": {"name": "once"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": "once", "image": "busybox"}],
                }
            },
        },
    }
    batch.create_namespaced_job("scratch", job)
    wait_for(lambda: (batch.read_namespaced_job("once", "scratch").status.succeeded or 0) == 1, 60, "the Job done")

    core.delete_namespace("scratch")

    def gone() -> bool:
        return "scratch" not in {item.metadata.name for item in core.list_namespace().items}

    wait_for(gone, 60, "the namespace finalised (its pods and the Job deleted)")
