"""The chart repository simulator: its index, the stand-in charts as the real helm sees them, helm's download."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.plugin_utils._platform_releases import CILIUM_AGENT_CAPABILITIES
from sandbox_testlib import call

from sandbox.gotools import binary
from sandbox.harness import RunningSimulator, running
from sandbox.simulators.charts.helm_release import host_platform
from sandbox.simulators.charts.packager import ChartRepository, package
from sandbox.simulators.charts.sources import CONTRACTS_DIR, SOURCES, ChartSource

pytestmark = pytest.mark.slow
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the rendered CRDs are megabytes of YAML

VERSIONS = {
    "cilium": "1.20.0",
    "metallb": "0.16.1",
    "ingress-nginx": "4.15.1",
    "cert-manager": "v1.21.1",
    "sealed-secrets": "2.18.5",
    "hcloud-cloud-controller-manager": "1.35.0",
    "hcloud-csi": "2.22.1",
    "gateway-helm": "v1.9.0",
    "flux-operator": "0.49.0",
}
# chart -> (release name, namespace, the workloads the collection and the sandbox rely on)
RELEASES: dict[str, tuple[str, str, set[tuple[str, str]]]] = {
    "cilium": ("cilium", "kube-system", {("DaemonSet", "cilium"), ("Deployment", "cilium-operator")}),
    "metallb": ("metallb", "metallb-system", {("Deployment", "metallb-controller"), ("DaemonSet", "metallb-speaker")}),
    "ingress-nginx": (
        "ingress-nginx",
        "ingress-nginx",
        {
            ("Deployment", "ingress-nginx-controller"),
            ("Service", "ingress-nginx-controller"),
            ("IngressClass", "nginx"),
        },
    ),
    "cert-manager": (
        "cert-manager",
        "cert-manager",
        {("Deployment", "cert-manager"), ("Deployment", "cert-manager-cainjector")},
    ),
    "sealed-secrets": (
        "sealed-secrets-controller",
        "kube-system",
        {("Deployment", "sealed-secrets-controller"), ("Service", "sealed-secrets-controller")},
    ),
    "hcloud-cloud-controller-manager": (
        "hcloud-cloud-controller-manager",
        "kube-system",
        {("Deployment", "hcloud-cloud-controller-manager")},
    ),
    "hcloud-csi": (
        "hcloud-csi",
        "kube-system",
        {("Deployment", "hcloud-csi-controller"), ("DaemonSet", "hcloud-csi-node"), ("StorageClass", "hcloud-volumes")},
    ),
    "gateway-helm": ("envoy-gateway", "envoy-gateway-system", {("Deployment", "envoy-gateway")}),
    "flux-operator": (
        "flux-operator",
        "flux-system",
        {("Deployment", "flux-operator"), ("CustomResourceDefinition", "fluxinstances.fluxcd.controlplane.io")},
    ),
}
# values upstream's schema refuses, and the words of helm's refusal
REFUSED = {
    "cilium": ("operator.replicas=two", "at '/operator/replicas': got string, want integer"),
    "metallb": ("speaker.tolerateMaster=maybe", "at '/speaker/tolerateMaster': got string, want boolean"),
    "cert-manager": ("crds.create=true", "additional properties 'create' not allowed"),
    "hcloud-csi": ("storageClasses[0].defaultStorageClass=yes", "got string, want boolean"),
    "flux-operator": ("installCRDs=maybe", "at '/installCRDs': got string, want boolean"),
}
# what PLATFORM.md (section 1) has the collection give Cilium on Talos (the agent's capabilities: the collection's own)
CILIUM_TALOS_VALUES = {
    "ipam": {"mode": "kubernetes"},
    "kubeProxyReplacement": True,
    "k8sServiceHost": "localhost",
    "k8sServicePort": 7445,
    "securityContext": {
        "capabilities": {
            "ciliumAgent": list(CILIUM_AGENT_CAPABILITIES),
            "cleanCiliumState": ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
        }
    },
    "cgroup": {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"},
    "l2announcements": {"enabled": True},
    "bpf": {"hostLegacyRouting": True, "masquerade": True},
    "gatewayAPI": {"enabled": True, "enableAlpn": True, "gatewayClass": {"create": "true"}},
    "operator": {"replicas": 1},
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    with running("charts", tmp_path_factory.mktemp("charts")) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("helm-home")
    return {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


def helm(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary("helm")), *arguments], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def template(
    repo: RunningSimulator, env: dict[str, str], chart: str, *extra: str, values: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    release, namespace = RELEASES[chart][:2]
    arguments = ["template", release, chart, "--repo", repo.url + "/", "--version", VERSIONS[chart]]
    arguments += ["--namespace", namespace, *extra]
    if values is not None:
        values_file = Path(env["HELM_DATA_HOME"]).parent / f"{chart}-values.yaml"
        values_file.write_text(yaml.safe_dump(values))
        arguments += ["--values", str(values_file)]
    return helm(env, *arguments)


def objects(rendered: str) -> list[dict[str, Any]]:
    return [document for document in yaml.load_all(rendered, Loader=LOADER) if document]


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: found {len(found)}"
    return found[0]


def test_index_lists_every_chart_with_its_digest(repo: RunningSimulator) -> None:
    reply = call(repo.url, "GET", "/index.yaml")
    assert reply.status == 200
    index = yaml.safe_load(reply.text)
    assert index["apiVersion"] == "v1"
    assert {name: [entry["version"] for entry in entries] for name, entries in index["entries"].items()} == {
        name: [version] for name, version in VERSIONS.items()
    }
    for name, (entry,) in index["entries"].items():
        assert "sandbox stand-in" in entry["description"].lower(), name
        assert entry["urls"] == [f"charts/{name}-{VERSIONS[name]}.tgz"]
        archive = call(repo.url, "GET", "/" + entry["urls"][0])
        assert archive.status == 200 and archive.headers["Content-Type"] == "application/gzip"
        assert hashlib.sha256(archive.body).hexdigest() == entry["digest"], name
        # deterministic: packing the same sources again gives the same bytes
        assert package(SOURCES[name])[1] == archive.body, name
        with tarfile.open(fileobj=io.BytesIO(archive.body)) as packed:
            templates = [n for n in packed.getnames() if n.startswith(f"{name}/templates/")]
        assert templates and all(n.endswith((".yaml", "/_helpers.tpl")) for n in templates), templates
    assert call(repo.url, "GET", "/index.yaml").body == reply.body
    assert call(repo.url, "GET", "/charts/nothing-1.0.0.tgz").status == 404


def test_changed_sources_are_packed_again(tmp_path: Path) -> None:
    shutil.copytree(SOURCES["cilium"].folder, tmp_path / "src" / "cilium")
    source = ChartSource("cilium", SOURCES["cilium"].crds, schema=True, charts_dir=tmp_path / "src")
    repository = ChartRepository(tmp_path / "repo", {"cilium": source})
    first = yaml.safe_load(repository.refresh())["entries"]["cilium"][0]
    archive = tmp_path / "repo" / "cilium-1.20.0.tgz"
    written = archive.stat().st_mtime_ns
    assert yaml.safe_load(ChartRepository(tmp_path / "repo", {"cilium": source}).refresh())["entries"] == {
        "cilium": [first]
    }
    assert archive.stat().st_mtime_ns == written  # nothing changed: nothing packed again

    values = source.folder / "values.yaml"
    values.write_text(values.read_text().replace("replicas: 2", "replicas: 3"))
    second = yaml.safe_load(repository.refresh())["entries"]["cilium"][0]
    assert second["digest"] != first["digest"]
    assert second["digest"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    with tarfile.open(archive) as packed:
        member = packed.extractfile("cilium/values.yaml")
        assert member is not None and b"replicas: 3" in member.read()


@pytest.mark.parametrize("chart", sorted(VERSIONS))
def test_real_helm_renders_each_chart_from_the_repository(
    repo: RunningSimulator, helm_env: dict[str, str], chart: str
) -> None:
    rendered = template(repo, helm_env, chart)
    assert rendered.returncode == 0, rendered.stderr
    documents = objects(rendered.stdout)
    namespace, expected = RELEASES[chart][1:]
    assert expected <= {(d["kind"], d["metadata"]["name"]) for d in documents}
    for document in documents:
        assert document["kind"] not in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "Job")
        if document["kind"] in ("Deployment", "DaemonSet", "Service", "ConfigMap", "ServiceAccount"):
            assert document["metadata"]["namespace"] == namespace, document["metadata"]
        if document["kind"] in ("Deployment", "DaemonSet"):
            for container in document["spec"]["template"]["spec"]["containers"]:
                assert "/" in container["image"] and ":" in container["image"], container["image"]
    assert not any(d["kind"] == "GatewayClass" for d in documents)  # not without gatewayAPI (cilium)


@pytest.mark.parametrize("chart", sorted(REFUSED))
def test_helm_refuses_values_the_upstream_schema_refuses(
    repo: RunningSimulator, helm_env: dict[str, str], chart: str
) -> None:
    setting, words = REFUSED[chart]
    refused = template(repo, helm_env, chart, "--set", setting)
    assert refused.returncode != 0
    assert "values don't meet the specifications of the schema" in refused.stderr and words in refused.stderr


def test_charts_without_an_upstream_schema_have_none(repo: RunningSimulator) -> None:
    for name, source in SOURCES.items():
        with tarfile.open(fileobj=io.BytesIO(package(source)[1])) as packed:
            names = packed.getnames()
        upstream = CONTRACTS_DIR / "charts" / name / "values.schema.json"
        assert (f"{name}/values.schema.json" in names) == upstream.is_file() == source.schema, name


@pytest.mark.parametrize("chart", sorted(name for name, source in SOURCES.items() if source.crds))
def test_crds_in_each_chart_are_the_contract_copies(
    repo: RunningSimulator, helm_env: dict[str, str], chart: str
) -> None:
    source = SOURCES[chart]
    with tarfile.open(fileobj=io.BytesIO(call(repo.url, "GET", f"/charts/{chart}-{VERSIONS[chart]}.tgz").body)) as tgz:
        packed = {
            member.name: tgz.extractfile(member).read()  # type: ignore[union-attr]
            for member in tgz.getmembers()
            if member.isfile() and member.name.split("/")[-3:-2] == ["crds"]  # <...>/crds/<group>/<file>
        }
    assert sorted(packed.values()) == sorted(path.read_bytes() for path in source.crd_paths())

    # and what helm installs from them is the same objects
    extra = ["--set", "crds.enabled=true"] if source.crds_in == "files" else ["--include-crds"]
    rendered = template(repo, helm_env, chart, *extra)
    assert rendered.returncode == 0, rendered.stderr
    crds = {d["metadata"]["name"]: d for d in objects(rendered.stdout) if d["kind"] == "CustomResourceDefinition"}
    contracts = [yaml.load(path.read_text(), Loader=LOADER) for path in source.crd_paths()]
    assert sorted(crds) == sorted(c["metadata"]["name"] for c in contracts)
    for contract in contracts:
        assert crds[contract["metadata"]["name"]]["spec"] == contract["spec"]


def test_crds_follow_crds_enabled_where_upstream_does(repo: RunningSimulator, helm_env: dict[str, str]) -> None:
    def crd_count(chart: str, *extra: str) -> int:
        rendered = template(repo, helm_env, chart, "--include-crds", *extra)
        assert rendered.returncode == 0, rendered.stderr
        return sum(d["kind"] == "CustomResourceDefinition" for d in objects(rendered.stdout))

    assert crd_count("cert-manager") == 0  # upstream's default: crds.enabled false
    assert crd_count("metallb", "--set", "crds.enabled=false") == 0
    assert crd_count("gateway-helm", "--set", "crds.enabled=false") == 0
    assert crd_count("gateway-helm") == 18
    kept = objects(template(repo, helm_env, "cert-manager", "--set", "crds.enabled=true").stdout)
    assert all(
        d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        for d in kept
        if d["kind"] == "CustomResourceDefinition"
    )


def test_cilium_honours_the_talos_values(repo: RunningSimulator, helm_env: dict[str, str]) -> None:
    rendered = template(repo, helm_env, "cilium", "--api-versions", "gateway.networking.k8s.io/v1/GatewayClass")
    default_agent = find(objects(rendered.stdout), "DaemonSet", "cilium")
    assert "mount-cgroup" in [c["name"] for c in default_agent["spec"]["template"]["spec"]["initContainers"]]

    rendered = template(repo, helm_env, "cilium", values=CILIUM_TALOS_VALUES)
    assert rendered.returncode == 0, rendered.stderr
    documents = objects(rendered.stdout)
    assert find(documents, "Deployment", "cilium-operator")["spec"]["replicas"] == 1
    config = find(documents, "ConfigMap", "cilium-config")["data"]
    assert config["ipam"] == "kubernetes" and config["kube-proxy-replacement"] == "true"
    assert config["enable-l2-announcements"] == "true" and config["enable-gateway-api"] == "true"
    assert config["enable-host-legacy-routing"] == "true" and config["cgroup-root"] == "/sys/fs/cgroup"
    pod = find(documents, "DaemonSet", "cilium")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["clean-cilium-state"]  # no cgroup mount on Talos
    agent = pod["containers"][0]
    wanted = CILIUM_TALOS_VALUES["securityContext"]["capabilities"]
    assert agent["securityContext"]["capabilities"]["add"] == wanted["ciliumAgent"]
    assert pod["initContainers"][0]["securityContext"]["capabilities"]["add"] == wanted["cleanCiliumState"]
    assert {e["name"]: e.get("value") for e in agent["env"]}["KUBERNETES_SERVICE_PORT"] == "7445"
    assert find(documents, "GatewayClass", "cilium")["spec"]["controllerName"] == "io.cilium/gateway-controller"


def test_service_and_storage_values_shape_the_objects(repo: RunningSimulator, helm_env: dict[str, str]) -> None:
    service_values = {
        "controller": {
            "replicaCount": 2,
            "service": {
                "annotations": {"metallb.io/address-pool": "ingress-pool"},
                "labels": {"talosforge.io/pool": "ingress-pool"},
                "loadBalancerIP": "10.0.3.2",
            },
        }
    }
    documents = objects(template(repo, helm_env, "ingress-nginx", values=service_values).stdout)
    service = find(documents, "Service", "ingress-nginx-controller")
    assert service["spec"]["type"] == "LoadBalancer" and service["spec"]["loadBalancerIP"] == "10.0.3.2"
    assert service["metadata"]["annotations"] == {"metallb.io/address-pool": "ingress-pool"}
    assert service["metadata"]["labels"]["talosforge.io/pool"] == "ingress-pool"
    assert find(documents, "Deployment", "ingress-nginx-controller")["spec"]["replicas"] == 2
    assert find(documents, "IngressClass", "nginx")["spec"]["controller"] == "k8s.io/ingress-nginx"

    classes = [
        {"name": "hcloud-volumes", "defaultStorageClass": False},
        {"name": "encrypted", "defaultStorageClass": True},
    ]
    documents = objects(template(repo, helm_env, "hcloud-csi", values={"storageClasses": classes}).stdout)
    default = "storageclass.kubernetes.io/is-default-class"
    assert default not in (find(documents, "StorageClass", "hcloud-volumes")["metadata"].get("annotations") or {})
    assert find(documents, "StorageClass", "encrypted")["metadata"]["annotations"][default] == "true"

    documents = objects(
        template(repo, helm_env, "hcloud-cloud-controller-manager", values={"networking": {"enabled": True}}).stdout
    )
    ccm = find(documents, "Deployment", "hcloud-cloud-controller-manager")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in ccm["containers"][0]["env"]}
    assert env["HCLOUD_NETWORK"]["valueFrom"]["secretKeyRef"] == {"name": "hcloud", "key": "network"}
    assert env["HCLOUD_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hcloud", "key": "token"}
    assert ccm["hostNetwork"] is True


def test_helm_download_in_get_helm_sh_layout(repo: RunningSimulator, tmp_path: Path) -> None:
    built = binary("helm")
    version = subprocess.run(
        [str(built), "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=True
    ).stdout
    name = f"helm-{version}-{host_platform()}.tar.gz"
    archive = call(repo.url, "GET", f"/helm/{name}")
    assert archive.status == 200
    checksum = call(repo.url, "GET", f"/helm/{name}.sha256sum")
    assert checksum.status == 200 and checksum.text == f"{hashlib.sha256(archive.body).hexdigest()}  {name}\n"
    assert call(repo.url, "GET", f"/helm/{name}.sha256").text.strip() == hashlib.sha256(archive.body).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(archive.body)) as packed:
        packed.extractall(tmp_path, filter="data")
    unpacked = tmp_path / host_platform() / "helm"
    assert unpacked.read_bytes() == built.read_bytes() and os.access(unpacked, os.X_OK)
    assert (
        subprocess.run(
            [str(unpacked), "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=True
        ).stdout
        == version
    )
    missing = call(repo.url, "GET", f"/helm/helm-v3.0.0-{host_platform()}.tar.gz")
    assert missing.status == 404 and name in missing.text


def test_installing_the_cilium_stand_in_turns_the_nodes_ready(
    repo: RunningSimulator, helm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from kube_testlib import LiveCluster, ready, wait_for

    live = LiveCluster.create(tmp_path_factory.mktemp("live"), control_planes=1, workers=1)
    try:
        nodes = wait_for(lambda: (found := live.nodes()) and len(found) == 2 and found, 60, "2 nodes registered")
        assert {ready(node) for node in nodes.values()} == {"False"}
        values = tmp_path_factory.mktemp("values") / "cilium.yaml"
        # "auto": no GatewayClass, since this cluster has no Gateway API CRDs ("true" would fail there, as upstream)
        gateway = {"gatewayAPI": {**CILIUM_TALOS_VALUES["gatewayAPI"], "gatewayClass": {"create": "auto"}}}
        values.write_text(yaml.safe_dump({**CILIUM_TALOS_VALUES, **gateway}))
        installed = helm(
            helm_env,
            *("install", "cilium", "cilium", "--repo", repo.url + "/", "--version", VERSIONS["cilium"]),
            *("--namespace", "kube-system", "--kubeconfig", str(live.kubeconfig), "--values", str(values)),
        )
        assert installed.returncode == 0, installed.stderr
        wait_for(lambda: {ready(node) for node in live.nodes().values()} == {"True"}, 60, "nodes Ready after Cilium")
        listed = helm(helm_env, "list", "-n", "kube-system", "-o", "json", "--kubeconfig", str(live.kubeconfig))
        assert [(r["name"], r["chart"], r["status"]) for r in json.loads(listed.stdout)] == [
            ("cilium", "cilium-1.20.0", "deployed")
        ]
    finally:
        live.close()


@pytest.mark.parametrize("chart", sorted(VERSIONS))
def test_helm_lint_passes_each_archive(repo: RunningSimulator, helm_env: dict[str, str], chart: str) -> None:
    archive = Path(helm_env["HELM_DATA_HOME"]).parent / f"{chart}.tgz"
    archive.write_bytes(call(repo.url, "GET", f"/charts/{chart}-{VERSIONS[chart]}.tgz").body)
    linted = helm(helm_env, "lint", str(archive))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    # only the leading "v" of cert-manager's and Envoy Gateway's versions is worth a warning, as upstream's
    warnings = [line for line in linted.stdout.splitlines() if line.startswith(("[WARNING]", "[ERROR]"))]
    assert warnings == (
        []
        if VERSIONS[chart][0].isdigit()
        else [f"[WARNING] Chart.yaml: version '{VERSIONS[chart]}' is not a valid SemVerV2"]
    )


def test_gateway_api_release_manifest(repo: RunningSimulator) -> None:
    reply = call(repo.url, "GET", "/gateway-api/v1.6.1/standard-install.yaml")
    assert reply.status == 200
    documents = [d for d in yaml.load_all(reply.body, Loader=LOADER) if d]
    contracts = [
        yaml.load(path.read_text(), Loader=LOADER)
        for path in sorted((CONTRACTS_DIR / "crds" / "gateway.networking.k8s.io").glob("*.yaml"))
    ]
    assert sorted(documents, key=lambda d: d["metadata"]["name"]) == sorted(
        contracts, key=lambda d: d["metadata"]["name"]
    )
    assert {d["metadata"]["annotations"]["gateway.networking.k8s.io/channel"] for d in documents} == {"standard"}
    missing = call(repo.url, "GET", "/gateway-api/v1.5.0/standard-install.yaml")
    assert missing.status == 404 and "v1.6.1" in missing.text
