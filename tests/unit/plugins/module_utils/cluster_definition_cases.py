# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two complete, valid definitions (one per provider, every optional section written) and helpers that change
one field of them, for the table-driven "class" tests of the validator (test_cluster_definition_*.py)."""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster

PROXMOX: dict[str, Any] = {
    "name": "demo",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "image_factory": {
        "url": "https://factory.talos.dev",
        "installer_registry": "factory.talos.dev",
        "cache_dir": ".cache/images",
    },
    "provider": {
        "type": "proxmox",
        "proxmox": {
            "api_url": "https://pve.example.org:8006",
            "nodes": ["pve1", "pve2"],
            "storage": "local-lvm",
            "image_storage": "local",
            "bridge": "vmbr0",
            "vlan": 20,
            "addressing": "meta",
            "interface": "ens18",
            "vmid_base": 500,
        },
    },
    "network": {
        "nodes": "10.0.1.0/24",
        "gateway": "10.0.1.1",
        "nameservers": ["10.0.1.1"],
        "pods": "10.244.0.0/16",
        "services": "10.96.0.0/12",
    },
    "endpoint": {"vip": "10.0.1.100", "host": "k8s.example.org", "port": 6443, "extra_sans": ["api.example.org"]},
    "patches": [{"machine": {"sysctls": {"vm.swappiness": "10"}}}],
    "node_defaults": {
        "size": {"cores": 2, "memory": 4096, "disk": 20},
        "install_disk": "/dev/sda",
        "extensions": ["siderolabs/qemu-guest-agent", "siderolabs/tailscale"],
        "kernel_args": ["net.ifnames=0"],
        "meta": [{"key": 12, "value": "mine"}],
        "labels": {"example.org/tier": "base"},
        "taints": [],
        "patches": [],
    },
    "control_plane": {"patches": []},
    "worker": {"taints": ["dedicated=ingress:NoSchedule"], "patches": []},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "location": "pve1", "patches": []},
        {"name": "cp-2", "role": "controlplane", "address": "10.0.1.12"},
        {"name": "cp-3", "role": "controlplane", "address": "10.0.1.13"},
    ],
    "node_pools": [
        {
            "name": "workers",
            "role": "worker",
            "count": 2,
            "first_address": "10.0.1.21",
            "locations": ["pve1", "pve2"],
            "patches": [],
        },
    ],
    "platform": {
        "cni": {"type": "cilium"},
        "load_balancer": {
            "type": "metallb",
            "pools": [
                {"name": "ingress-pool", "addresses": ["10.0.1.200/32"]},
                {"name": "dns-pool", "addresses": ["10.0.1.201/32"]},
            ],
        },
        "ingress": {"type": "ingress-nginx", "pool": "ingress-pool", "replicas": 2},
        "cert_manager": {"enabled": True, "email": "ops@example.org", "directory": "staging"},
        "dns": {"powerdns": {"enabled": True, "pool": "dns-pool", "zone": "demo.example.org"}},
    },
    "gitops": {
        "flux": {
            "enabled": True,
            "url": "ssh://git@github.com/example/cluster.git",
            "branch": "main",
            "path": "clusters/demo",
        }
    },
    "edge": {
        "host": "vps.example.org",
        "public_address": "203.0.113.10",
        "domain": "demo.example.org",
        "mesh": {"type": "headscale", "login_server": "https://hs.example.org"},
        "acme": {"directory": "production", "email": "ops@example.org"},
    },
}

HCLOUD: dict[str, Any] = {
    "name": "shop",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {
        "type": "hcloud",
        "hcloud": {
            "location": "fsn1",
            "network_zone": "eu-central",
            "network_ip_range": "10.0.0.0/16",
            "firewall_source_cidrs": ["203.0.113.0/24"],
        },
    },
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"load_balancer": {"type": "lb11", "location": "nbg1"}},
    "node_defaults": {"size": "cpx22", "arch": "amd64"},
    "node_pools": [
        {"name": "cp", "role": "controlplane", "count": 3, "locations": ["fsn1", "nbg1", "hel1"]},
        {"name": "workers", "role": "worker", "count": 2, "location": "fsn1"},
    ],
    "platform": {"load_balancer": {"type": "hcloud"}, "hcloud": {"ccm": True, "csi": True}},
}

BASES = {"proxmox": PROXMOX, "hcloud": HCLOUD}


def changed(base: str | dict, path: tuple, value: Any = None, *, remove: bool = False) -> dict:
    """A deep copy of ``base`` with the field at ``path`` (keys and list indexes) set to ``value`` or removed."""
    document = copy.deepcopy(BASES[base] if isinstance(base, str) else base)
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


def errors_at(document: dict) -> dict[str, list[str]]:
    """The error messages of ``document`` by path."""
    found: dict[str, list[str]] = {}
    for issue in load_cluster(document)[1]:
        if issue.is_error:
            found.setdefault(issue.path, []).append(f"{issue.message} / {issue.fix}")
    return found


def path_text(path: tuple) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
