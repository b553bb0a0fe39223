# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps tree: the platform's releases as HelmReleases Flux adopts, its objects as configs, the Flux
Kustomizations in the cluster folder, built by the real kubectl kustomize and checked against Flux's CRD schemas."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter.gitops_tree import FilterModule
from ansible_collections.talosforge.cluster.plugins.filter.platform_plan import FilterModule as PlatformFilters
from test_platform_plan import SEED_001, VERSIONS, model

TREE = FilterModule().filters()["gitops_tree"]
PLATFORM = PlatformFilters().filters()
CRDS = Path(__file__).resolve().parents[3] / "contracts" / "crds"
SOPS_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
    name: cert-manager-tsig
    namespace: cert-manager
stringData:
    secret: ENC[AES256_GCM,data:q0Yb,iv:AAAA,tag:BBBB,type:str]
sops:
    age:
        - recipient: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
    mac: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]
    version: 3.10.2
"""


def seed_001(**platform_changes):
    cluster = model(SEED_001, **platform_changes)
    releases = PLATFORM["platform_releases"](cluster, VERSIONS)
    objects = [
        *PLATFORM["platform_objects"](cluster, "namespaces"),
        *PLATFORM["platform_objects"](cluster, "services"),
    ]
    return cluster, releases, objects


def documents(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def schemas() -> dict[tuple[str, str], dict]:
    """The openAPIV3Schema of each served version of the Flux CRDs, by (apiVersion, kind)."""
    found = {}
    for path in sorted(CRDS.glob("*.toolkit.fluxcd.io/*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                found[key] = version["schema"]["openAPIV3Schema"]
    return found


def test_seed_001_tree_carries_each_release_with_the_platforms_values_under_its_own_release_name():
    cluster, releases, objects = seed_001()
    tree = TREE(cluster, releases, objects, secrets={"secrets/cert-manager-tsig.sops.yaml": SOPS_SECRET})
    files = tree["files"]
    assert tree["managed_paths"] == [
        "clusters/lab/apps.yaml",
        "clusters/lab/infrastructure.yaml",
        "infrastructure/configs",
        "infrastructure/controllers",
    ]
    for release in releases:
        source, helm_release = documents(files[f"infrastructure/controllers/{release['name']}.yaml"])
        assert source == {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": release["name"], "namespace": "flux-system"},
            "spec": {"interval": "10m", "url": release["repo"]},
        }
        spec = helm_release["spec"]
        assert spec["values"] == release["values"]
        assert spec["chart"]["spec"]["chart"] == release["chart"]
        assert spec["chart"]["spec"]["version"] == release["version"]
        assert (spec["releaseName"], spec["targetNamespace"], spec["storageNamespace"]) == (
            release["name"],
            release["namespace"],
            release["namespace"],
        )
        assert spec["install"] == spec["upgrade"] == {"crds": "CreateReplace"}
    controllers = documents(files["infrastructure/controllers/kustomization.yaml"])[0]
    assert controllers["resources"] == ["namespaces.yaml"] + [f"{r['name']}.yaml" for r in releases]
    assert documents(files["infrastructure/controllers/namespaces.yaml"])[0]["metadata"]["name"] == "metallb-system"
    configs = documents(files["infrastructure/configs/kustomization.yaml"])[0]["resources"]
    assert configs == [
        "metallb-system-ipaddresspool-ingress-pool.yaml",
        "metallb-system-ipaddresspool-dns-pool.yaml",
        "metallb-system-ipaddresspool-services-pool.yaml",
        "metallb-system-l2advertisement-talosforge.yaml",
        "secrets/cert-manager-tsig.sops.yaml",
    ]
    assert files["infrastructure/configs/secrets/cert-manager-tsig.sops.yaml"] == SOPS_SECRET
    scaffold = {path: documents(text) for path, text in tree["scaffold"].items()}
    assert scaffold == {
        "apps/kustomization.yaml": [
            {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": []}
        ]
    }


def test_every_sync_kustomization_decrypts_prunes_and_waits_for_the_one_before():
    cluster, releases, objects = seed_001()
    files = TREE(cluster, releases, objects)["files"]
    syncs = documents(files["clusters/lab/infrastructure.yaml"]) + documents(files["clusters/lab/apps.yaml"])
    assert [(s["metadata"]["name"], s["spec"]["path"], s["spec"].get("dependsOn")) for s in syncs] == [
        ("infrastructure-controllers", "./infrastructure/controllers", None),
        ("infrastructure-configs", "./infrastructure/configs", [{"name": "infrastructure-controllers"}]),
        ("apps", "./apps", [{"name": "infrastructure-configs"}]),
    ]
    for sync in syncs:
        assert sync["spec"]["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
        assert sync["spec"]["prune"] is True
        assert sync["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    assert "clusters/lab/kustomization.yaml" not in files


@pytest.mark.parametrize(
    ("layout", "cluster_file", "controllers", "apps"),
    [
        (  # seed 000: flux bootstrap --path=fluxcd/clusters/production
            {"cluster": "fluxcd/clusters/production", "infrastructure": "fluxcd/infrastructure", "apps": "fluxcd/apps"},
            "fluxcd/clusters/production/apps.yaml",
            "fluxcd/infrastructure/controllers",
            "./fluxcd/apps",
        ),
        (  # seed 001: everything Flux reconciles under k8s/
            {"cluster": "k8s/clusters/lab", "infrastructure": "k8s/infrastructure", "apps": "k8s/apps"},
            "k8s/clusters/lab/apps.yaml",
            "k8s/infrastructure/controllers",
            "./k8s/apps",
        ),
        (  # seed 002: k8s/flux holds the sync, the user's apps in k8s/apps
            {"cluster": "k8s/flux/cluster", "infrastructure": "k8s/infrastructure", "apps": "k8s/apps"},
            "k8s/flux/cluster/apps.yaml",
            "k8s/infrastructure/controllers",
            "./k8s/apps",
        ),
    ],
)
def test_the_seeds_layouts_are_expressible(layout, cluster_file, controllers, apps):
    cluster, releases, objects = seed_001()
    tree = TREE(cluster, releases, objects, layout=layout)
    assert cluster_file in tree["files"] and controllers in tree["managed_paths"]
    assert documents(tree["files"][cluster_file])[0]["spec"]["path"] == apps
    assert list(tree["scaffold"]) == [f"{apps[2:]}/kustomization.yaml"]
    assert not [path for path in tree["managed_paths"] if path.startswith(apps[2:])]


def test_same_inputs_same_bytes_and_an_oci_chart_gets_an_oci_repository():
    cluster, releases, objects = seed_001(ingress={"type": "gateway", "pool": "ingress-pool"})
    first = TREE(cluster, releases, objects)
    assert first == TREE(copy.deepcopy(cluster), copy.deepcopy(releases), copy.deepcopy(objects))
    source, helm_release = documents(first["files"]["infrastructure/controllers/envoy-gateway.yaml"])
    assert source["kind"] == "OCIRepository"
    assert source["spec"]["url"] == "oci://docker.io/envoyproxy/gateway-helm"
    assert source["spec"]["ref"] == {"tag": "v1.9.0"}
    assert helm_release["spec"]["chartRef"] == {
        "kind": "OCIRepository",
        "name": "envoy-gateway",
        "namespace": "flux-system",
    }
    assert "chart" not in helm_release["spec"]
    assert "infrastructure/configs/envoy-gateway-system-gateway-ingress.yaml" in first["files"]


@pytest.mark.parametrize(
    ("secrets", "objects_extra", "message"),
    [
        ({"tsig.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: t}\nstringData: {k: v}\n"}, [], "in clear"),
        ({"../escape.yaml": SOPS_SECRET}, [], "inside the configs folder"),
        ({"kustomization.yaml": SOPS_SECRET}, [], "taken"),
        ({}, [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}}], "in clear"),
    ],
)
def test_secrets_in_clear_or_out_of_place_are_refused(secrets, objects_extra, message):
    cluster, releases, objects = seed_001()
    with pytest.raises(AnsibleFilterError, match=f"gitops_tree: .*{message}"):
        TREE(cluster, releases, objects + objects_extra, secrets=secrets)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"apps": "infrastructure/apps"}, "must not contain each other"),
        ({"cluster": "../clusters"}, "not allowed"),
        ({"clusters": "x"}, "unknown key"),
    ],
)
def test_bad_layouts_are_refused(layout, message):
    cluster, releases, objects = seed_001()
    with pytest.raises(AnsibleFilterError, match=message):
        TREE(cluster, releases, objects, layout=layout)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl (kubectl kustomize) on the PATH")
def test_kubectl_kustomize_builds_every_folder_and_flux_objects_match_the_crd_schemas(tmp_path):
    cluster, releases, objects = seed_001()
    tree = TREE(cluster, releases, objects, secrets={"secrets/cert-manager-tsig.sops.yaml": SOPS_SECRET})
    for path, text in {**tree["files"], **tree["scaffold"]}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    # What kustomize-controller generates for a synced folder without a kustomization.yaml: every manifest in it.
    (tmp_path / "clusters/lab/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [infrastructure.yaml, apps.yaml]\n",
        encoding="utf-8",
    )
    flux_schemas = schemas()
    built = []
    for folder in ("clusters/lab", "infrastructure/controllers", "infrastructure/configs", "apps"):
        result = subprocess.run(
            ["kubectl", "kustomize", str(tmp_path / folder)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={**os.environ, "KUBECONFIG": os.devnull},
        )
        assert result.returncode == 0, f"{folder}: {result.stderr}"
        built += documents(result.stdout)
    kinds = [(doc["kind"], doc["metadata"]["name"]) for doc in built]
    assert ("Secret", "cert-manager-tsig") in kinds and ("IPAddressPool", "dns-pool") in kinds
    flux = [doc for doc in built if doc["apiVersion"].split("/")[0].endswith(".toolkit.fluxcd.io")]
    assert sorted({doc["kind"] for doc in flux}) == ["HelmRelease", "HelmRepository", "Kustomization"]
    assert len([doc for doc in flux if doc["kind"] == "HelmRelease"]) == len(releases)
    for doc in flux:
        schema = flux_schemas[(doc["apiVersion"], doc["kind"])]
        jsonschema.validate(doc, schema, cls=jsonschema.Draft4Validator)
    # The schemas do refuse what Flux refuses: a Kustomization without its required prune.
    broken = copy.deepcopy(next(doc for doc in flux if doc["kind"] == "Kustomization"))
    del broken["spec"]["prune"]
    with pytest.raises(jsonschema.ValidationError, match="prune"):
        jsonschema.validate(
            broken, flux_schemas[(broken["apiVersion"], "Kustomization")], cls=jsonschema.Draft4Validator
        )
