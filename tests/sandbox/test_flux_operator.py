"""flux-operator's stand-in (sandbox/kube/flux_operator.py) on a real sandbox cluster, with the real Flux controllers.

As the collection does it: the stand-in chart ``flux-operator`` 0.49.0 installed by the built helm (the operator's
real CRDs, its Deployment), a Secret ``flux-system`` and a FluxInstance ``flux`` syncing a path of a git repository
served over smart HTTP on 127.0.0.1. The stand-in loop every sandbox cluster runs reconciles it: the controllers run,
GitRepository and Kustomization ``flux-system`` are made as the operator makes them, and the FluxInstance is Ready
once the sync Kustomization is. The real kube-apiserver checks every object against the contract CRDs.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kube_testlib import LiveCluster, wait_for
from test_flux_controllers import GitRepo, LiveApis, _GitHttp, _programs, _serve

from sandbox.gotools import binary
from sandbox.gotools.programs import BIN_DIR_ENV
from sandbox.kube import flux, flux_operator
from sandbox.simulators.charts.packager import package
from sandbox.simulators.charts.sources import SOURCES

pytestmark = pytest.mark.slow

NAMESPACE = "flux-system"
INSTANCE = ("fluxcd.controlplane.io", "v1", "fluxinstances")
SOURCE = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
KUSTOMIZE = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
SYNC_PATH = "k8s/clusters/sandbox"
TIMEOUT = 150.0


def _config_maps(namespace: str, **data: dict[str, str]) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}]
    for name, values in data.items():
        documents.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace},
                "data": values,
            }
        )
    return documents


def flux_instance(url: str, path: str = SYNC_PATH, **sync: Any) -> dict[str, Any]:
    """The FluxInstance the collection applies."""
    return {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "FluxInstance",
        "metadata": {"name": "flux", "namespace": NAMESPACE},
        "spec": {
            "distribution": {"version": "2.9.x", "registry": "ghcr.io/fluxcd"},
            "components": ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
            "cluster": {"type": "kubernetes", "networkPolicy": True, "domain": "cluster.local"},
            "sync": {
                "kind": "GitRepository",
                "url": url,
                "ref": "refs/heads/main",
                "path": path,
                "pullSecret": "flux-system",
                "interval": "1m",
                **sync,
            },
        },
    }


class Cluster(LiveApis):
    config_map_namespace = "apps"

    def __init__(self, live: LiveCluster, repo: GitRepo, git_url: str) -> None:
        self.live, self.repo, self.git_url = live, repo, git_url

    def get(self, kind: tuple[str, str, str], name: str, namespace: str = NAMESPACE) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return self.custom().get_namespaced_custom_object(*kind[:2], namespace, kind[2], name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def instance(self) -> dict[str, Any]:
        found = self.get(INSTANCE, "flux")
        assert found is not None
        return found

    def patch_instance(self, patch: dict[str, Any]) -> None:
        self.custom().patch_namespaced_custom_object(*INSTANCE[:2], NAMESPACE, INSTANCE[2], "flux", patch)

    def ready(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The FluxInstance once Ready=True for its current generation (the stand-in's log on failure)."""

        def check() -> dict[str, Any] | None:
            found = self.instance()
            ready = next((c for c in found.get("status", {}).get("conditions", []) if c["type"] == "Ready"), None)
            if ready and ready["status"] == "True" and ready["observedGeneration"] == found["metadata"]["generation"]:
                return found
            return None

        try:
            return wait_for(check, timeout, "FluxInstance flux Ready", interval=0.5)
        except AssertionError:
            raise AssertionError(f"not Ready: {self.instance().get('status')}\n{self.logs()}") from None

    def condition(self, kind: str = "Ready") -> dict[str, Any]:
        conditions = self.instance().get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == kind), {})

    def logs(self) -> str:
        real = self.live.real()
        daemons = {"flux-operator": real.flux_operator, **real.flux.daemons}
        return "\n".join(f"--- {name}: {daemon.tail(15)}" for name, daemon in daemons.items())


def install_chart(live: LiveCluster, root: Path) -> subprocess.CompletedProcess[str]:
    """``helm install flux-operator`` of the stand-in chart, packed as the chart repository serves it."""
    root.mkdir(parents=True, exist_ok=True)
    file_name, data = package(SOURCES["flux-operator"])
    archive = root / file_name
    archive.write_bytes(data)
    env = {**os.environ, "HELM_CACHE_HOME": str(root / "cache"), "HELM_CONFIG_HOME": str(root / "config")}
    env["HELM_DATA_HOME"] = str(root / "data")
    command = [str(binary("helm")), "install", "flux-operator", str(archive), "--namespace", NAMESPACE]
    command += ["--create-namespace", "--kubeconfig", str(live.kubeconfig)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    _programs()  # skips, naming TALOSFORGE_GOTOOLS_TIER=3, when the controllers are not built
    root = tmp_path_factory.mktemp("flux-operator")
    repo = GitRepo(root)
    repo.write(f"{SYNC_PATH}/apps.yaml", _config_maps("apps", greeting={"text": "hello from the FluxInstance"}))
    repo.write("k8s/clusters/other/apps.yaml", _config_maps("apps", moved={"text": "the other path"}))
    repo.push("two cluster paths")
    server, url = _serve(type("Handler", (_GitHttp,), {"root": str(repo.bare.parent)}))
    live = LiveCluster.create(root / "cluster", control_planes=1, workers=0, name="fluxop")
    try:
        installed = install_chart(live, root / "helm")
        assert installed.returncode == 0, installed.stdout + installed.stderr
        from kubernetes import client

        secret = {"metadata": {"name": "flux-system"}, "stringData": {"username": "git", "password": "not-checked"}}
        client.CoreV1Api(live.api()).create_namespaced_secret(NAMESPACE, secret)
        yield Cluster(live, repo, f"{url}/fleet.git")
    finally:
        live.close()
        server.shutdown()


# --- without a cluster ----------------------------------------------------------------------------------------------


def test_sync_objects_follow_the_operators_template() -> None:
    sync = {"kind": "OCIRepository", "url": "oci://127.0.0.1:5000/fleet", "ref": "latest", "path": "./c"}
    source, kustomization = flux_operator.sync_objects("flux-system", sync, "v2.9.4")
    assert source["kind"] == "OCIRepository" and source["spec"] == {
        "interval": "1m0s",
        "ref": {"tag": "latest"},
        "url": "oci://127.0.0.1:5000/fleet",
    }
    bucket = {
        "kind": "Bucket",
        "url": "127.0.0.1:9000",
        "ref": "fleet",
        "path": "./c",
        "name": "mine",
        "interval": "90s",
    }
    source, kustomization = flux_operator.sync_objects("flux-system", bucket, "v2.9.4")
    assert source["metadata"]["name"] == kustomization["metadata"]["name"] == "mine"
    assert source["spec"] == {"interval": "1m30s", "bucketName": "fleet", "endpoint": "127.0.0.1:9000"}
    assert kustomization["spec"]["sourceRef"] == {"kind": "Bucket", "name": "mine"}
    assert flux_operator.sync_objects("flux-system", None, "v2.9.4") == []


def test_versions_match_as_semver_ranges() -> None:
    for matching in ("2.x", "2.9.x", "2.9.4", "v2.9.4", "*", ">=2.5.0", ">=2.0 <3.0", "~2.9", "^2.3"):
        assert flux_operator.matches(matching), matching
    for other in ("2.8.x", "3.x", "2.9.5", "<2.9.0", ""):
        assert not flux_operator.matches(other), other


def test_a_controller_that_is_not_built_is_named_with_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(BIN_DIR_ENV, str(tmp_path))
    wanted = flux_operator.plan(flux_instance("http://127.0.0.1:1/fleet.git") | {"metadata": {"namespace": NAMESPACE}})
    assert wanted.runnable == [] and set(wanted.unbuilt) == set(flux.PROGRAMS)
    assert "python -m sandbox.gotools build --tier 3" in wanted.unbuilt["source-controller"]
    assert str(tmp_path / "source-controller") in wanted.unbuilt["source-controller"]
    assert wanted.not_run == ["notification-controller"]


# --- on a cluster ---------------------------------------------------------------------------------------------------


def test_the_chart_installs_the_operator_and_the_loop_runs(cluster: Cluster) -> None:
    from kubernetes import client

    deployment = client.AppsV1Api(cluster.live.api()).read_namespaced_deployment("flux-operator", NAMESPACE)
    assert deployment.spec.template.spec.containers[0].image == "ghcr.io/controlplaneio-fluxcd/flux-operator:v0.49.0"
    crds = client.ApiextensionsV1Api(cluster.live.api()).list_custom_resource_definition().items
    assert {crd.metadata.name for crd in crds} >= {"fluxinstances.fluxcd.controlplane.io"}
    real = cluster.live.real()
    assert real.flux_operator.alive() and real.status().flux_operator
    assert "flux-operator stand-in" in real.status().line()
    assert not any(real.flux.running().values())  # nothing runs before a FluxInstance asks for it


def test_flux_instance_goes_ready_and_syncs_the_path(cluster: Cluster) -> None:
    started = time.monotonic()
    cluster.custom().create_namespaced_custom_object(
        *INSTANCE[:2], NAMESPACE, INSTANCE[2], flux_instance(cluster.git_url)
    )
    found = cluster.ready()
    print(f"FluxInstance Ready after {time.monotonic() - started:.1f} s")
    status = found["status"]
    assert "fluxcd.controlplane.io/finalizer" in found["metadata"]["finalizers"]
    assert status["lastAppliedRevision"] == status["lastAttemptedRevision"]
    assert status["lastAppliedRevision"].startswith("v2.9.4@sha256:")
    ready = cluster.condition()
    assert ready["reason"] == "ReconciliationSucceeded" and ready["message"].startswith("Reconciliation finished in")
    assert "notification-controller not run" in ready["message"]
    assert [c["type"] for c in status["conditions"]] == ["Ready"]
    assert {c["name"]: c["tag"] for c in status["components"]} == {
        "source-controller": flux_operator.built_version("source-controller"),
        "kustomize-controller": flux_operator.built_version("kustomize-controller"),
        "helm-controller": flux_operator.built_version("helm-controller"),
        "notification-controller": "v1.9.3",
    }
    assert status["components"][0]["repository"] == "ghcr.io/fluxcd/source-controller"
    ids = {entry["id"] for entry in status["inventory"]["entries"]}
    assert "flux-system_flux-system_source.toolkit.fluxcd.io_GitRepository" in ids
    assert "flux-system_flux-system_kustomize.toolkit.fluxcd.io_Kustomization" in ids
    assert "_receivers.notification.toolkit.fluxcd.io_apiextensions.k8s.io_CustomResourceDefinition" in ids
    assert status["history"][0]["metadata"] == {"flux": "v2.9.4"}
    assert all(cluster.live.real().flux.running().values())

    source = cluster.get(SOURCE, "flux-system")
    assert source is not None
    assert source["spec"]["ref"] == {"name": "refs/heads/main"}  # the operator's mapping: ref.name, whatever ref is
    assert source["spec"]["url"] == cluster.git_url and source["spec"]["interval"] == "1m0s"
    assert source["spec"]["secretRef"] == {"name": "flux-system"}
    assert source["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "flux-operator"
    kustomization = cluster.get(KUSTOMIZE, "flux-system")
    assert kustomization is not None
    assert {key: kustomization["spec"][key] for key in ("interval", "path", "prune", "sourceRef")} == {
        "interval": "10m0s",
        "path": SYNC_PATH,
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    greeting = cluster.config_map("greeting")
    assert greeting is not None and greeting.data == {"text": "hello from the FluxInstance"}

    events = cluster.core().list_namespaced_event(NAMESPACE, field_selector="involvedObject.kind=FluxInstance").items
    said = {(event.reason, event.source.component) for event in events}
    assert {("Progressing", "flux-operator"), ("ReconciliationSucceeded", "flux-operator")} <= said


def test_a_changed_instance_changes_the_sync_objects(cluster: Cluster) -> None:
    cluster.ready()
    cluster.patch_instance({"spec": {"sync": {"path": "k8s/clusters/other", "interval": "2m"}}})
    found = cluster.ready()
    assert found["status"]["lastAppliedRevision"] == found["status"]["lastAttemptedRevision"]
    source = cluster.get(SOURCE, "flux-system")
    kustomization = cluster.get(KUSTOMIZE, "flux-system")
    assert source is not None and source["spec"]["interval"] == "2m0s"
    assert kustomization is not None and kustomization["spec"]["path"] == "k8s/clusters/other"
    wait_for(lambda: cluster.config_map("moved") is not None, TIMEOUT, "the other path applied")
    wait_for(lambda: cluster.config_map("greeting") is None, TIMEOUT, "greeting pruned")


def test_the_api_server_checks_the_instance_against_the_crd(cluster: Cluster) -> None:
    from kubernetes.client.exceptions import ApiException

    with pytest.raises(ApiException) as refused:
        cluster.patch_instance({"spec": {"components": ["source-controller", "flux-ui"]}})
    assert refused.value.status == 422 and "flux-ui" in refused.value.body
    with pytest.raises(ApiException) as refused:
        cluster.patch_instance({"spec": {"sync": {"kind": "HelmRepository"}}})
    assert refused.value.status == 422
    other = flux_instance(cluster.git_url)
    other["metadata"]["name"] = "other"
    with pytest.raises(ApiException) as refused:
        cluster.custom().create_namespaced_custom_object(*INSTANCE[:2], NAMESPACE, INSTANCE[2], other)
    assert refused.value.status == 422 and "the only accepted name for a FluxInstance is 'flux'" in refused.value.body


def test_a_version_the_sandbox_has_not_is_a_build_failure(cluster: Cluster) -> None:
    cluster.patch_instance({"spec": {"distribution": {"version": "2.8.x"}}})
    wait_for(lambda: cluster.condition().get("reason") == "BuildFailed", 30, "BuildFailed")
    assert cluster.condition()["message"] == "build failed: no match found for semver: 2.8.x"
    assert cluster.condition("Stalled")["status"] == "True"
    cluster.patch_instance({"spec": {"distribution": {"version": "2.x"}}})
    cluster.ready()


def test_a_controller_that_is_not_built_makes_the_instance_not_ready(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The stand-in's round run here, its programs looked for in an empty folder (the loop is stopped first)."""
    real = cluster.live.real()
    real.flux_operator.stop()
    monkeypatch.setenv(BIN_DIR_ENV, str(tmp_path))
    cluster.patch_instance({"metadata": {"annotations": {"test": "again"}}, "spec": {"sync": {"interval": "3m"}}})
    operator = flux_operator.for_cluster(real.dir, real.logs)
    operator.sync()
    ready = cluster.condition()
    assert ready["status"] == "False" and ready["reason"] == "ReconciliationFailed", ready
    assert "source-controller is not built" in ready["message"]
    assert "python -m sandbox.gotools build --tier 3" in ready["message"]
    assert ready["observedGeneration"] == cluster.instance()["metadata"]["generation"]
    assert not any(real.flux.running().values())


def test_deleting_the_instance_uninstalls_flux(cluster: Cluster) -> None:
    from kubernetes import client

    real = cluster.live.real()
    real.flux_operator.stop()
    operator = flux_operator.for_cluster(real.dir, real.logs)
    operator.sync()  # the controllers run again
    assert all(real.flux.running().values())
    cluster.custom().delete_namespaced_custom_object(*INSTANCE[:2], NAMESPACE, INSTANCE[2], "flux")
    operator.sync()
    wait_for(lambda: cluster.get(INSTANCE, "flux") is None, 30, "FluxInstance gone")
    assert not any(real.flux.running().values())
    names = {
        crd.metadata.name
        for crd in client.ApiextensionsV1Api(cluster.live.api()).list_custom_resource_definition().items
    }
    assert not [name for name in names if name.endswith("toolkit.fluxcd.io")]
    assert "fluxinstances.fluxcd.controlplane.io" in names  # the chart's, not the instance's
    assert cluster.config_map("moved") is not None  # what Flux applied stays
