# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The objects of one kube_objects call: checked input, their order, and per object what applying would do.

Order: Namespaces and CustomResourceDefinitions first (``FIRST_KINDS``), the rest after them. ``plan`` reads the
live object and decides without writing: unchanged when the live object holds the manifest's fields; otherwise a
dry-run apply says what the object would become (and whether the API server accepts it at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.client import KubeApiError, KubeClient
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.compare import (
    desired_fields,
    holds,
    same_object,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.discovery import (
    Discovery,
    Resource,
    crd_resources,
)

CRD_API_VERSION = "apiextensions.k8s.io/v1"
FIRST_KINDS = (("v1", "Namespace"), (CRD_API_VERSION, "CustomResourceDefinition"))


@dataclass
class Item:
    """One object: its manifest, where it lives, and what was found and decided."""

    manifest: dict[str, Any]
    api_version: str
    kind: str
    name: str
    namespace: str | None = None  # set once the resource is known (None for cluster-scoped kinds)
    resource: Resource | None = None
    served: bool = True  # False: its kind comes from a CRD of this call that the server does not serve yet
    live: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    action: str = ""  # created | updated | unchanged | deleted, or "" while undecided
    deferred: bool = False  # cannot be checked before the Namespaces/CRDs of this call exist
    written: bool = False  # applied or deleted by this call

    @property
    def first(self) -> bool:
        return (self.api_version, self.kind) in FIRST_KINDS

    @property
    def label(self) -> str:
        """``Kind namespace/name`` or ``Kind name``: how every message names the object."""
        where = self.namespace if self.namespace is not None else self.manifest.get("metadata", {}).get("namespace")
        if self.resource is not None and not self.resource.namespaced:
            where = None
        return f"{self.kind} {where}/{self.name}" if where else f"{self.kind} {self.name}"

    @property
    def path(self) -> str:
        if self.resource is None:
            raise ValueError(f"{self.label}: resource not resolved")
        return self.resource.path(self.namespace, self.name)

    def desired(self) -> dict[str, Any]:
        manifest = dict(self.manifest)
        if self.resource is not None and self.resource.namespaced:
            manifest["metadata"] = {**manifest.get("metadata", {}), "namespace": self.namespace}
        return desired_fields(manifest, self.resource.namespaced if self.resource else True)

    def summary(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "action": self.action,
        }


def items_from(objects: list[Any]) -> list[Item]:
    """Items for the ``objects`` option; InputError listing every manifest that is not usable, nothing sent."""
    problems, items, seen = [], [], set()
    for index, manifest in enumerate(objects):
        if manifest is None:  # an empty document of a multi-document YAML file
            continue
        if not isinstance(manifest, Mapping):
            problems.append(f"objects[{index}] is not a mapping")
            continue
        metadata = manifest.get("metadata")
        if not isinstance(metadata, Mapping):
            metadata = {}
        name = metadata.get("name")
        missing = [key for key in ("apiVersion", "kind") if not manifest.get(key)] + ([] if name else ["metadata.name"])
        if missing:
            problems.append(f"objects[{index}] ({manifest.get('kind') or '?'}): {', '.join(missing)} missing")
            continue
        item = Item(dict(manifest), str(manifest["apiVersion"]), str(manifest["kind"]), str(name))
        key = (item.api_version.rpartition("/")[0], item.kind, metadata.get("namespace"), item.name)
        if key in seen:
            problems.append(f"objects[{index}] ({item.label}) appears twice")
        seen.add(key)
        items.append(item)
    if problems:
        raise InputError("; ".join(problems))
    return items


def resolve(
    items: list[Item], discovery: Discovery, default_namespace: str, absent: bool = False
) -> list[dict[str, Any]]:
    """Set each item's resource and namespace; the failures (kinds nobody serves), by object.

    With ``absent``, an object of a kind nobody serves does not exist: it is marked unchanged, not a failure.
    """
    failures = []
    for item in items:
        served = discovery.served(item.api_version, item.kind)
        resource = served or discovery.planned.get((item.api_version, item.kind))
        if resource is None and absent:
            item.served, item.action = False, "unchanged"
            continue
        if resource is None:
            why = f"kind {item.kind} in {item.api_version} is not served and no CRD of this task defines it"
            failures.append({"name": item.label, "msg": f"{item.label}: {why}"})
            continue
        item.resource, item.served = resource, served is not None
        if resource.namespaced:
            item.namespace = str(item.manifest.get("metadata", {}).get("namespace") or default_namespace)
    return failures


def waiting_for(first: list[Item]) -> tuple[set[str], set[tuple[str, str]]]:
    """What the other objects must wait for: (Namespaces this call creates, kinds whose CRD it creates or changes).

    An object of a kind whose CRD changes is checked against the new schema, once it is applied.
    """
    namespaces = {item.name for item in first if item.kind == "Namespace" and item.action == "created"}
    kinds = {
        key
        for item in first
        if item.kind == "CustomResourceDefinition" and item.action != "unchanged"
        for key in crd_resources(item.manifest)
    }
    return namespaces, kinds


def plan(
    client: KubeClient,
    item: Item,
    field_manager: str,
    waiting: tuple[set[str], set[tuple[str, str]]] | None = None,
) -> Item:
    """Decide ``item.action`` from the live object, writing nothing.

    An item whose kind is not served yet, or that waits for a Namespace or a CRD of this call (``waiting``, see
    ``waiting_for``), is marked ``deferred``: checked once those are applied.
    """
    namespaces, kinds = waiting or (set(), set())
    if not item.served or item.namespace in namespaces or (item.api_version, item.kind) in kinds:
        item.deferred, item.after = True, item.desired()
        item.live = client.get(item.path, missing_ok=True) if item.served and item.namespace not in namespaces else None
        item.action = "created" if item.live is None else "updated"
        return item
    desired = item.desired()
    item.live = client.get(item.path, missing_ok=True)
    if item.live is not None and holds(desired, item.live):
        item.deferred, item.after, item.action = False, item.live, "unchanged"
        return item
    item.after = client.apply(item.path, desired, field_manager, dry_run=True)
    item.deferred = False
    if same_object(item.after, item.live):
        item.action = "unchanged"
    else:
        item.action = "created" if item.live is None else "updated"
    return item


def apply(client: KubeClient, item: Item, field_manager: str) -> Item:
    """Write ``item`` (server-side apply); ``item.after`` becomes the object the API server answered."""
    item.after = client.apply(item.path, item.desired(), field_manager)
    item.written = True
    return item


def delete(client: KubeClient, item: Item, check_mode: bool) -> Item:
    """Delete ``item`` when it exists (read first: a no-op sends no write)."""
    item.after = None
    if item.resource is None:  # a kind nobody serves: nothing of it exists
        item.action = "unchanged"
        return item
    item.live = client.get(item.path, missing_ok=True) if item.served else None
    if item.live is None:
        item.action = "unchanged"
        return item
    item.action = "deleted"
    if not check_mode:
        item.written = client.delete(item.path)
        item.action = "deleted" if item.written else "unchanged"
    return item


def refused(item: Item, error: Exception) -> dict[str, Any]:
    """One failure entry naming the object, with the API server's words."""
    entry: dict[str, Any] = {"name": item.label, "msg": f"{item.label}: {error}"}
    if isinstance(error, KubeApiError):
        entry["failure"] = error.failure()
    return entry
