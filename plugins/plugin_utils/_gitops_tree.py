# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The cluster's GitOps tree: the files the gitops_repository module commits, from what the platform stage installs.

Pure: the cluster model, the platform's releases (``platform_releases``) and objects (``platform_objects``), and
the already-encrypted Secrets in; ``{files, managed_paths, scaffold}`` out. Three folders, after Flux's
flux2-kustomize-helm-example:

- the cluster folder (``clusters/<name>``): the Flux Kustomizations ``infrastructure-controllers``,
  ``infrastructure-configs`` (after the controllers, whose CRDs it needs) and ``apps`` (after the configs), each
  decrypting SOPS with the ``sops-age`` Secret, in two files and no kustomization.yaml (kustomize-controller makes
  one of every manifest under the synced path, so a ``flux-system/`` that flux bootstrap keeps there still counts);
- ``infrastructure/controllers``: per release a HelmRepository (an OCIRepository for an ``oci://`` chart) and a
  HelmRelease with the platform's chart, version and values, under the platform's release name, namespace and
  Helm storage namespace, so that helm-controller takes the installed release over instead of installing another;
  the Namespaces the platform makes before its charts;
- ``infrastructure/configs``: the platform's other objects (pools, announcements, the Gateway) and the Secrets,
  placed as given (encrypted by the caller; clear Secrets are refused).

``apps/kustomization.yaml`` is returned in ``scaffold``, not ``files``: the user owns ``apps/`` (a managed file
would undo their edits on the next run), so it is written only when the branch has none.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from typing import Any

import yaml

FLUX_NAMESPACE = "flux-system"
SOURCE = "flux-system"
SOPS_SECRET = "sops-age"
DEFAULT_INTERVAL = "10m"
HELM_API = "helm.toolkit.fluxcd.io/v2"
SOURCE_API = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"
KUSTOMIZATION_FILE = "kustomization.yaml"
# The media type of a Helm chart's layer in an OCI artifact: helm-controller takes the chart from that layer.
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
LAYOUT_KEYS = ("cluster", "infrastructure", "apps", "namespace", "source", "interval")
# The Flux Kustomizations of the cluster folder, in the order they apply.
SYNC_KUSTOMIZATIONS = ("infrastructure-controllers", "infrastructure-configs", "apps")


class GitopsTreeError(ValueError):
    """The inputs do not make a tree."""


def plain(data: Any) -> Any:
    """``data`` as plain dicts, lists and scalars: Ansible hands filters its own str and dict subclasses, which
    PyYAML's safe dumper refuses."""
    return json.loads(json.dumps(data))


def yaml_text(document: Any) -> str:
    """One YAML document, keys sorted (apiVersion, kind, metadata, spec come out in that order), lists as given."""
    return yaml.safe_dump(plain(document), sort_keys=True, default_flow_style=False, width=120, allow_unicode=False)


def _text(documents: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml_text(document) for document in documents)


def _folder(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip("/"):
        raise GitopsTreeError(f"layout.{key} must be a folder of the repository, not {value!r}")
    if value.startswith("/") or "\\" in value:
        raise GitopsTreeError(f"layout.{key} {value!r}: give a path relative to the repository's root")
    parts = [part for part in value.split("/") if part]
    if any(part in (".", "..") or part.lower() == ".git" for part in parts):
        raise GitopsTreeError(f"layout.{key} {value!r}: '.', '..' and '.git' are not allowed")
    return "/".join(parts)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def resolve_layout(cluster: Mapping[str, Any], layout: Mapping[str, Any] | None) -> dict[str, str]:
    """The folders and Flux settings of the tree: ``cluster`` (default ``clusters/<name>``), ``infrastructure``,
    ``apps``, the Flux ``namespace``, the GitRepository ``source`` and the reconcile ``interval``."""
    layout = dict(layout or {})
    unknown = sorted(set(layout) - set(LAYOUT_KEYS))
    if unknown:
        raise GitopsTreeError(f"layout: unknown key(s) {', '.join(unknown)}; known: {', '.join(LAYOUT_KEYS)}")
    name = cluster.get("name")
    if not isinstance(name, str) or not name:
        raise GitopsTreeError("expects the cluster model, talosforge_cluster, with its name")
    resolved = {
        "cluster": _folder(layout.get("cluster") or f"clusters/{name}", "cluster"),
        "infrastructure": _folder(layout.get("infrastructure") or "infrastructure", "infrastructure"),
        "apps": _folder(layout.get("apps") or "apps", "apps"),
    }
    for key, other in (("cluster", "infrastructure"), ("cluster", "apps"), ("infrastructure", "apps")):
        if _inside(resolved[key], resolved[other]) or _inside(resolved[other], resolved[key]):
            raise GitopsTreeError(
                f"layout.{key} ({resolved[key]}) and layout.{other} ({resolved[other]}) must not contain each other"
            )
    for key, default in (("namespace", FLUX_NAMESPACE), ("source", SOURCE), ("interval", DEFAULT_INTERVAL)):
        value = layout.get(key) or default
        if not isinstance(value, str):
            raise GitopsTreeError(f"layout.{key} must be a string, not {value!r}")
        resolved[key] = value
    return resolved


def _kustomize(resources: list[str]) -> str:
    return _text([{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}])


def _release_fields(release: Any) -> tuple[str, str, str, str, str, dict[str, Any]]:
    if not isinstance(release, Mapping):
        raise GitopsTreeError(f"a release must be a mapping as platform_releases returns it, not {release!r}")
    name = release.get("name")
    missing = [key for key in ("name", "namespace", "chart", "version") if not release.get(key)]
    if missing:
        raise GitopsTreeError(f"release {name or release!r}: no {', '.join(missing)}")
    values = release.get("values") or {}
    if not isinstance(values, Mapping):
        raise GitopsTreeError(f"release {name}: values must be a mapping")
    chart, repo = str(release["chart"]), str(release.get("repo") or "")
    if not chart.startswith("oci://") and not repo:
        raise GitopsTreeError(f"release {name}: chart {chart!r} has no repo (only an oci:// chart needs none)")
    return str(name), str(release["namespace"]), chart, repo, str(release["version"]), dict(values)


def release_documents(release: Any, settings: Mapping[str, str]) -> list[dict[str, Any]]:
    """The chart source and the HelmRelease of one platform release.

    helm-controller finds a release by its name, target namespace and storage namespace: all three are the
    platform's (its release name and namespace), so the HelmRelease finds the release helm installed and upgrades
    it in place (a new revision of the same history), with the same chart, version and values.
    """
    name, namespace, chart, repo, version, values = _release_fields(release)
    flux_namespace, interval = settings["namespace"], settings["interval"]
    meta = {"name": name, "namespace": flux_namespace}
    source_ref = {"name": name, "namespace": flux_namespace}
    if chart.startswith("oci://") or repo.startswith("oci://"):
        url = chart if chart.startswith("oci://") else f"{repo.rstrip('/')}/{chart}"
        source = {
            "apiVersion": SOURCE_API,
            "kind": "OCIRepository",
            "metadata": meta,
            "spec": {
                "interval": interval,
                "url": url,
                "ref": {"tag": version},
                "layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"},
            },
        }
        chart_spec: dict[str, Any] = {"chartRef": {"kind": "OCIRepository", **source_ref}}
    else:
        source = {
            "apiVersion": SOURCE_API,
            "kind": "HelmRepository",
            "metadata": meta,
            "spec": {"interval": interval, "url": repo},
        }
        chart_spec = {
            "chart": {
                "spec": {
                    "chart": chart,
                    "version": version,
                    "sourceRef": {"kind": "HelmRepository", **source_ref},
                    "interval": interval,
                }
            }
        }
    helm_release = {
        "apiVersion": HELM_API,
        "kind": "HelmRelease",
        "metadata": meta,
        "spec": {
            **chart_spec,
            "interval": interval,
            "releaseName": name,
            "targetNamespace": namespace,
            "storageNamespace": namespace,
            "install": {"crds": "CreateReplace"},
            "upgrade": {"crds": "CreateReplace"},
            "values": values,
        },
    }
    return [source, helm_release]


def _object_file(document: Any) -> str:
    if (
        not isinstance(document, Mapping)
        or not document.get("kind")
        or not (document.get("metadata") or {}).get("name")
    ):
        raise GitopsTreeError(f"an object needs kind and metadata.name: {document!r}")
    if document["kind"] == "Secret":
        raise GitopsTreeError(
            f"Secret {document['metadata']['name']} would be committed in clear: pass it encrypted in secrets"
        )
    meta = document["metadata"]
    parts = [meta.get("namespace"), document["kind"], meta["name"]]
    return "-".join(str(part).lower() for part in parts if part) + ".yaml"


def _encrypted(path: str, text: Any) -> str:
    """The Secret's file as given, refused unless it is SOPS-encrypted or a SealedSecret."""
    if not isinstance(text, str):
        raise GitopsTreeError(f"secret {path}: its content must be text")
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise GitopsTreeError(f"secret {path}: not YAML ({exc})") from exc
    for document in documents or [None]:
        sealed = isinstance(document, Mapping) and document.get("kind") == "SealedSecret"
        sops = isinstance(document, Mapping) and isinstance(document.get("sops"), Mapping)
        if not (sealed or sops):
            raise GitopsTreeError(
                f"secret {path}: neither SOPS-encrypted (no sops metadata) nor a SealedSecret; refused in clear"
            )
    return text


def _relative(path: Any, what: str) -> str:
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path:
        raise GitopsTreeError(f"{what} {path!r}: give a path relative to the configs folder")
    clean = posixpath.normpath(path)
    if clean.startswith("..") or clean == "." or not clean.endswith((".yaml", ".yml")):
        raise GitopsTreeError(f"{what} {path!r}: a .yaml file inside the configs folder")
    return clean


def _sync_kustomization(
    name: str, path: str, settings: Mapping[str, str], depends_on: str | None = None, wait: bool = False
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "interval": settings["interval"],
        "path": f"./{path}",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": settings["source"]},
        # Without it, kustomize-controller would apply the SOPS ciphertext as it is and still report Ready.
        "decryption": {"provider": "sops", "secretRef": {"name": SOPS_SECRET}},
    }
    if depends_on:
        spec["dependsOn"] = [{"name": depends_on}]
    if wait:
        spec["wait"] = True
    return {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": settings["namespace"]},
        "spec": spec,
    }


def gitops_tree(
    cluster: Any,
    releases: Any,
    objects: Any,
    layout: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``{files, managed_paths, scaffold}``: the tree of the platform's ``releases`` and ``objects``.

    ``objects``: the platform's manifests (both parts of ``platform_objects``); Namespaces go with the controllers,
    the rest with the configs. ``secrets``: path inside the configs folder -> the encrypted file's text.
    """
    if not isinstance(cluster, Mapping):
        raise GitopsTreeError("expects the cluster model, talosforge_cluster")
    if not isinstance(releases, (list, tuple)) or not isinstance(objects, (list, tuple)):
        raise GitopsTreeError("releases and objects must be lists (platform_releases, platform_objects)")
    if secrets is not None and not isinstance(secrets, Mapping):
        raise GitopsTreeError("secrets must map a path inside the configs folder to the encrypted file's text")
    settings = resolve_layout(cluster, layout)
    controllers = f"{settings['infrastructure']}/controllers"
    configs = f"{settings['infrastructure']}/configs"
    files: dict[str, str] = {}

    controller_resources: list[str] = []
    namespaces = [dict(obj) for obj in objects if isinstance(obj, Mapping) and obj.get("kind") == "Namespace"]
    if namespaces:
        files[f"{controllers}/namespaces.yaml"] = _text(namespaces)
        controller_resources.append("namespaces.yaml")
    seen: set[str] = set()
    for release in releases:
        documents = release_documents(release, settings)
        name = documents[1]["metadata"]["name"]
        if name in seen:
            raise GitopsTreeError(f"release {name} is given twice")
        seen.add(name)
        files[f"{controllers}/{name}.yaml"] = _text(documents)
        controller_resources.append(f"{name}.yaml")
    files[f"{controllers}/{KUSTOMIZATION_FILE}"] = _kustomize(controller_resources)

    config_resources: list[str] = []
    for document in objects:
        if isinstance(document, Mapping) and document.get("kind") == "Namespace":
            continue
        filename = _object_file(document)
        if filename in config_resources:
            raise GitopsTreeError(f"object {filename[:-5]} is given twice")
        files[f"{configs}/{filename}"] = _text([dict(document)])
        config_resources.append(filename)
    for raw_path in sorted(secrets or {}):
        path = _relative(raw_path, "secret")
        if path == KUSTOMIZATION_FILE or path in config_resources:
            raise GitopsTreeError(f"secret {raw_path}: its path is taken by another file of the configs folder")
        files[f"{configs}/{path}"] = _encrypted(raw_path, (secrets or {})[raw_path])
        config_resources.append(path)
    files[f"{configs}/{KUSTOMIZATION_FILE}"] = _kustomize(config_resources)

    cluster_dir = settings["cluster"]
    files[f"{cluster_dir}/infrastructure.yaml"] = _text(
        [
            _sync_kustomization(SYNC_KUSTOMIZATIONS[0], controllers, settings, wait=True),
            _sync_kustomization(SYNC_KUSTOMIZATIONS[1], configs, settings, SYNC_KUSTOMIZATIONS[0]),
        ]
    )
    files[f"{cluster_dir}/apps.yaml"] = _text(
        [_sync_kustomization(SYNC_KUSTOMIZATIONS[2], settings["apps"], settings, SYNC_KUSTOMIZATIONS[1])]
    )
    return {
        "files": dict(sorted(files.items())),
        # The cluster folder's two files, not the folder: flux bootstrap keeps its flux-system/ there.
        "managed_paths": sorted(
            [f"{cluster_dir}/infrastructure.yaml", f"{cluster_dir}/apps.yaml", controllers, configs]
        ),
        "scaffold": {f"{settings['apps']}/{KUSTOMIZATION_FILE}": _kustomize([])},
    }
