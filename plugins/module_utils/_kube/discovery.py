# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Which resource (plural name, namespaced or not) serves a kind: the API server's discovery, read once per run.

Only the group-versions a run uses are read (``/api/v1``, ``/apis/<group>/<version>``), each once; ``forget``
drops one so that it is read again (after its CRD was created). Kinds of CRDs that are part of the same run but
not installed yet (check mode) are resolved from those CRDs' own specs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._kube.client import KubeApiError, KubeClient


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """The API path of the collection (``name`` None) or of one object."""
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return base + (f"/{name}" if name else "")


def split_api_version(api_version: str) -> tuple[str, str]:
    """(group, version); the core group is ''."""
    group, _slash, version = api_version.rpartition("/")
    return group, version


def crd_resources(crd: dict[str, Any]) -> dict[tuple[str, str], Resource]:
    """{(apiVersion, kind): Resource} for every served version of a CustomResourceDefinition manifest."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
    if not (group and kind and plural):
        return {}
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    found = {}
    for version in spec.get("versions") or []:
        if isinstance(version, dict) and version.get("name") and version.get("served", True):
            found[(f"{group}/{version['name']}", kind)] = Resource(group, version["name"], plural, namespaced)
    return found


class Discovery:
    """Kind to resource, from the API server's discovery documents, cached for the run."""

    def __init__(self, client: KubeClient, planned: dict[tuple[str, str], Resource] | None = None):
        self.client = client
        self.planned = dict(planned or {})  # from CRDs of this run, for kinds the server does not serve yet
        self._lock = threading.Lock()
        self._served: dict[str, dict[str, Resource] | None] = {}

    def _read(self, api_version: str) -> dict[str, Resource] | None:
        group, version = split_api_version(api_version)
        path = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        answer = self.client.get(path, missing_ok=True)
        if answer is None:
            return None
        kinds = {}
        for entry in answer.get("resources") or []:
            if "/" in entry.get("name", ""):  # subresources such as deployments/status
                continue
            kinds[entry["kind"]] = Resource(group, version, entry["name"], bool(entry.get("namespaced")))
        return kinds

    def served(self, api_version: str, kind: str) -> Resource | None:
        """The resource serving ``kind`` in ``api_version`` now, or None (group-version or kind not served)."""
        with self._lock:
            if api_version not in self._served:
                self._served[api_version] = self._read(api_version)
            return (self._served[api_version] or {}).get(kind)

    def resolve(self, api_version: str, kind: str) -> Resource:
        """The resource for ``kind``: served now, or defined by a CRD of this run; KubeApiError when neither."""
        found = self.served(api_version, kind) or self.planned.get((api_version, kind))
        if found is None:
            raise KubeApiError(
                f"the API server does not serve kind {kind} in {api_version} (is its CRD installed?)",
                status=404,
                code="NotFound",
                request=f"GET discovery {api_version}",
            )
        return found

    def forget(self, api_version: str) -> None:
        with self._lock:
            self._served.pop(api_version, None)
