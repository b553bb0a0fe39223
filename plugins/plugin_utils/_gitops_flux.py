# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What the GitOps stage hands to sops_files and awaits from Flux, as data.

- ``gitops_secret_files``: the platform's Secrets as the ``files`` of the sops_files module, one file each, named
  ``<namespace>-<name>.sops.yaml``: the same Secret always lands in the same file, so an unchanged one keeps its
  ciphertext and makes no commit.
- ``flux_expectations``: the ``expect`` of kube_objects that says Flux has taken over the pushed commit - the
  GitRepository at that revision, every Kustomization of the tree having applied it, every HelmRelease Ready.
- ``flux_helmreleases``: the ``expect`` met by the HelmReleases that exist: the releases Flux has taken over, which
  the platform stage then leaves to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.plugin_utils._gitops_tree import (
    FLUX_NAMESPACE,
    HELM_API,
    KUSTOMIZE_API,
    SOURCE,
    SOURCE_API,
    SYNC_KUSTOMIZATIONS,
    yaml_text,
)

SECRET_SUFFIX = ".sops.yaml"


class GitopsFluxError(ValueError):
    """The inputs are not what the GitOps stage publishes."""


def gitops_secret_files(secrets: Any) -> list[dict[str, str]]:
    """``[{path, content}]``: each Secret (a manifest) as the YAML text of one file, sorted by path."""
    if not isinstance(secrets, (list, tuple)):
        raise GitopsFluxError("expects the platform's Secrets, a list of manifests (talosforge_platform.secrets)")
    files: dict[str, str] = {}
    for index, secret in enumerate(secrets):
        metadata = secret.get("metadata") if isinstance(secret, Mapping) else None
        if not isinstance(metadata, Mapping) or secret.get("kind") != "Secret":
            raise GitopsFluxError(f"secrets[{index}] is not a Secret manifest")
        namespace, name = metadata.get("namespace"), metadata.get("name")
        if not namespace or not name:
            raise GitopsFluxError(f"secrets[{index}] has no namespace or no name")
        path = f"{namespace}-{name}{SECRET_SUFFIX}"
        if path in files:
            raise GitopsFluxError(f"Secret {namespace}/{name} is given twice")
        files[path] = yaml_text(secret)
    return [{"path": path, "content": files[path]} for path in sorted(files)]


def flux_expectations(
    releases: Any, revision: Any, requested: Any = None, namespace: str = FLUX_NAMESPACE
) -> list[dict[str, Any]]:
    """The kube_objects ``expect`` entries met once Flux runs ``revision`` (a commit id) of the tree; with
    ``requested`` (the value of a ``reconcile.fluxcd.io/requestedAt`` annotation), once the GitRepository has also
    handled that request, so a fetch with new credentials is awaited, not an earlier artifact taken for it."""
    if not isinstance(releases, (list, tuple)):
        raise GitopsFluxError("releases must be a list (talosforge_platform.releases)")
    if not isinstance(revision, str) or not revision:
        raise GitopsFluxError("revision must be the commit the tree was pushed as")
    source = {"apiVersion": SOURCE_API, "kind": "GitRepository", "namespace": namespace, "name": SOURCE,
              "revision": revision}  # fmt: skip
    if requested:
        source["requested"] = str(requested)
    found = [source]
    for name in (SOURCE, *SYNC_KUSTOMIZATIONS):
        found.append({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "namespace": namespace, "name": name,
                      "revision": revision})  # fmt: skip
    found += [{**entry, "condition": "Ready"} for entry in flux_helmreleases(releases, namespace)]
    return found


def flux_helmreleases(releases: Any, namespace: str = FLUX_NAMESPACE) -> list[dict[str, Any]]:
    """The kube_objects ``expect`` entries met when Flux holds a HelmRelease of each release (it exists): the
    platform stage leaves those releases to helm-controller."""
    if not isinstance(releases, (list, tuple)):
        raise GitopsFluxError("releases must be a list (platform_releases)")
    return [
        {"apiVersion": HELM_API, "kind": "HelmRelease", "namespace": namespace, "name": _name(release)}
        for release in releases
    ]


def _name(release: Any) -> str:
    if not isinstance(release, Mapping) or not release.get("name"):
        raise GitopsFluxError(f"a release must be a mapping with a name, not {release!r}")
    return str(release["name"])
