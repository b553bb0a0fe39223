# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The model as Ansible sees it: ``Cluster.to_dict()`` plus what follows from the definition, computed once.

The cluster_definition module (``talosforge_cluster``, ``talosforge_images``) and the inventory plugin
(``talosforge_cluster``, ``talosforge_node``) both publish ``published_model``, so every role reads these values
and none computes them (docs/stage-contract.md):

- ``endpoint.kind`` (load_balancer, floating_ip, vip or host) and ``endpoint.floating_ip`` (``{address, type}`` of
  the Hetzner floating IP a public VIP needs, else None);
- ``first_address`` of each load-balancer pool, and ``platform.ingress.address`` and
  ``platform.dns.powerdns.address``, the address each service is pinned to: the first address of the pool it names
  (the next one for PowerDNS when it shares the ingress's pool);
- ``talos_files``: where the Talos stage keeps the cluster's files unless told otherwise;
- ``provider.labels`` on Hetzner Cloud: the labels every resource of the cluster carries and their selectors;
- each node's ``schematic_id``, ``image_url`` and ``installer_image`` (the image plan). ``image_url`` is the one key
  that joins a node to its entry of ``talosforge_images`` and to what either provider's image module returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.checks_endpoint import is_private
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import AddressPool, Cluster, Platform
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    POOL,
    ROLE,
    LabelError,
    cluster_labels,
    selector,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.plan import (
    plan_images,
    resolve_cache_dir,
)

TALOS_FILES_ROOT = "~/.talosforge"


def floating_ip(cluster: Cluster) -> dict[str, str] | None:
    """The floating IP a public ``endpoint.vip`` needs on Hetzner Cloud (a private VIP is an alias IP there)."""
    vip = cluster.endpoint.vip
    if cluster.provider.type != "hcloud" or vip is None or is_private(vip):
        return None
    return {"address": str(vip), "type": f"ipv{vip.version}"}


def endpoint_kind(cluster: Cluster) -> str:
    """How the Kubernetes API is reached: load_balancer, floating_ip, vip, or host (the host name or a node)."""
    if cluster.endpoint.load_balancer is not None:
        return "load_balancer"
    if floating_ip(cluster) is not None:
        return "floating_ip"
    return "vip" if cluster.endpoint.vip is not None else "host"


def first_address(pool: AddressPool) -> str | None:
    """The first address of a load-balancer pool (its first range's first address), None when it has none."""
    return str(pool.ranges[0][0]) if pool.ranges else None


def pool_address(platform: Platform, name: str | None, index: int = 0) -> str | None:
    """Address number ``index`` (0 = the first) of the pool called ``name``; None without such a pool or address."""
    for pool in platform.pools:
        if name is not None and pool.name == name:
            for first, last in pool.ranges:
                if index <= int(last) - int(first):
                    return str(first + index)
                index -= int(last) - int(first) + 1
            return None
    return None


def service_addresses(platform: Platform) -> tuple[str | None, str | None]:
    """The planned addresses of the ingress and of PowerDNS: each the next free address of the pool it names, the
    ingress first, so that two services sharing a pool never get the same address."""
    ingress = pool_address(platform, platform.ingress_pool) if platform.ingress_type != "none" else None
    shared = platform.ingress_pool == platform.powerdns_pool and ingress is not None
    powerdns = pool_address(platform, platform.powerdns_pool, 1 if shared else 0)
    return ingress, powerdns


def talos_files(directory: str, secrets: str | None = None, kubeconfig: str | None = None) -> dict[str, str]:
    """Where the Talos stage keeps a cluster's files when they live in ``directory`` (``~`` expanded).

    ``secrets`` and ``kubeconfig`` are given when the user moved them elsewhere.
    """
    root = os.path.normpath(os.path.expanduser(directory))
    configs = os.path.join(root, "configs")
    return {
        "dir": root,
        "configs": configs,
        "talosconfig": os.path.join(configs, "talosconfig"),
        "secrets": os.path.expanduser(secrets) if secrets else os.path.join(root, "secrets.yaml"),
        "kubeconfig": os.path.expanduser(kubeconfig) if kubeconfig else os.path.join(root, "kubeconfig"),
        "backups": os.path.join(root, "backups"),
    }


def hcloud_labels(cluster: Cluster) -> dict[str, Any] | None:
    """The labels of the cluster's Hetzner resources and their selectors; None off Hetzner or without a valid name."""
    if cluster.provider.type != "hcloud" or not cluster.name:
        return None
    try:
        labels = cluster_labels(cluster.name)
    except LabelError:
        return None
    return {
        "cluster": labels,
        "selector": selector(labels),
        "control_plane_selector": selector({**labels, ROLE: "controlplane"}),
        "role_key": ROLE,
        "pool_key": POOL,
    }


def published_model(
    cluster: Cluster, base_dir: str, selected: Iterable[str] | None = None, with_images: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The model handed to Ansible and the image plan of the ``selected`` nodes (all without ``selected``).

    Relative paths of the definition are taken from ``base_dir``. ``with_images=False`` skips the image plan (a
    definition with errors, which the inventory still loads so that they can be reported).
    """
    model = cluster.to_dict()
    resolve_cache_dir(model, base_dir)
    model["endpoint"]["kind"] = endpoint_kind(cluster)
    model["endpoint"]["floating_ip"] = floating_ip(cluster)
    platform = model["platform"]
    for data, pool in zip(platform["load_balancer"]["pools"], cluster.platform.pools, strict=True):
        data["first_address"] = first_address(pool)
    platform["ingress"]["address"], platform["dns"]["powerdns"]["address"] = service_addresses(cluster.platform)
    model["provider"]["labels"] = hcloud_labels(cluster)
    model["talos_files"] = talos_files(f"{TALOS_FILES_ROOT}/{cluster.name}")
    images = plan_images(model, selected) if with_images else []
    return model, images
