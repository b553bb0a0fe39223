# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing the user wrote is silently changed: a name, identifier, address or other text value with white space
around it, or a DNS name or server type in another case than the one it is used in, is refused at its path with
the reason; a value that is accepted reaches the model exactly as written."""

from __future__ import annotations

import json

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster
from cluster_definition_cases import BASES, changed, errors_at, path_text

# Every text field of the two bases that is a name, an identifier, an address, a URL or other single-line text.
TEXT_FIELDS = [
    ("proxmox", ("name",)),
    ("proxmox", ("talos_version",)),
    ("proxmox", ("kubernetes_version",)),
    ("proxmox", ("image_factory", "url")),
    ("proxmox", ("image_factory", "installer_registry")),
    ("proxmox", ("image_factory", "cache_dir")),
    ("proxmox", ("provider", "type")),
    ("proxmox", ("provider", "proxmox", "api_url")),
    ("proxmox", ("provider", "proxmox", "nodes", 0)),
    ("proxmox", ("provider", "proxmox", "storage")),
    ("proxmox", ("provider", "proxmox", "image_storage")),
    ("proxmox", ("provider", "proxmox", "bridge")),
    ("proxmox", ("provider", "proxmox", "addressing")),
    ("proxmox", ("provider", "proxmox", "interface")),
    ("proxmox", ("network", "nodes")),
    ("proxmox", ("network", "gateway")),
    ("proxmox", ("network", "nameservers", 0)),
    ("proxmox", ("network", "pods")),
    ("proxmox", ("network", "services")),
    ("proxmox", ("endpoint", "vip")),
    ("proxmox", ("endpoint", "host")),
    ("proxmox", ("endpoint", "extra_sans", 0)),
    ("proxmox", ("node_defaults", "install_disk")),
    ("proxmox", ("node_defaults", "extensions", 0)),
    ("proxmox", ("node_defaults", "kernel_args", 0)),
    ("proxmox", ("node_defaults", "meta", 0, "key")),
    ("proxmox", ("node_defaults", "labels", "example.org/tier")),
    ("proxmox", ("worker", "taints", 0)),
    ("proxmox", ("nodes", 0, "name")),
    ("proxmox", ("nodes", 0, "role")),
    ("proxmox", ("nodes", 0, "address")),
    ("proxmox", ("nodes", 0, "location")),
    ("proxmox", ("node_pools", 0, "name")),
    ("proxmox", ("node_pools", 0, "role")),
    ("proxmox", ("node_pools", 0, "first_address")),
    ("proxmox", ("node_pools", 0, "locations", 0)),
    ("proxmox", ("platform", "cni", "type")),
    ("proxmox", ("platform", "load_balancer", "type")),
    ("proxmox", ("platform", "load_balancer", "pools", 0, "name")),
    ("proxmox", ("platform", "load_balancer", "pools", 0, "addresses", 0)),
    ("proxmox", ("platform", "ingress", "type")),
    ("proxmox", ("platform", "ingress", "pool")),
    ("proxmox", ("platform", "cert_manager", "email")),
    ("proxmox", ("platform", "cert_manager", "directory")),
    ("proxmox", ("platform", "dns", "powerdns", "zone")),
    ("proxmox", ("gitops", "flux", "url")),
    ("proxmox", ("gitops", "flux", "branch")),
    ("proxmox", ("gitops", "flux", "path")),
    ("proxmox", ("edge", "host")),
    ("proxmox", ("edge", "public_address")),
    ("proxmox", ("edge", "domain")),
    ("proxmox", ("edge", "mesh", "type")),
    ("proxmox", ("edge", "mesh", "login_server")),
    ("proxmox", ("edge", "acme", "directory")),
    ("proxmox", ("edge", "acme", "email")),
    ("hcloud", ("provider", "hcloud", "location")),
    ("hcloud", ("provider", "hcloud", "network_zone")),
    ("hcloud", ("provider", "hcloud", "network_ip_range")),
    ("hcloud", ("provider", "hcloud", "firewall_source_cidrs", 0)),
    ("hcloud", ("endpoint", "load_balancer", "type")),
    ("hcloud", ("endpoint", "load_balancer", "location")),
    ("hcloud", ("node_defaults", "size")),
    ("hcloud", ("node_defaults", "arch")),
    ("hcloud", ("node_pools", 1, "location")),
]
SPACING = {"leading": " {}", "trailing": "{} ", "both": "  {}\t", "newline": "{}\n"}


def _value(base: str, path: tuple) -> str:
    value = BASES[base]
    for step in path:
        value = value[step]
    return str(value)


def _error_path(path: tuple) -> str:
    # A label's value is reported at the label (labels.<key>).
    return path_text(path)


@pytest.mark.parametrize("spacing", list(SPACING))
@pytest.mark.parametrize("base, path", TEXT_FIELDS, ids=[f"{b}:{path_text(p)}" for b, p in TEXT_FIELDS])
def test_white_space_around_a_value_is_refused_at_its_path(base, path, spacing):
    written = SPACING[spacing].format(_value(base, path))
    errors = errors_at(changed(base, path, written))
    assert _error_path(path) in errors, f"{written!r} at {path_text(path)} was accepted; errors: {errors}"


@pytest.mark.parametrize(
    "base, path, written",
    [
        ("proxmox", ("endpoint", "host"), "K8s.Example.org"),
        ("proxmox", ("endpoint", "host"), "k8s.example.org."),
        ("proxmox", ("edge", "host"), "VPS.example.org"),
        ("proxmox", ("edge", "domain"), "Demo.example.org"),
        ("proxmox", ("edge", "domain"), "demo.example.org."),
        ("proxmox", ("platform", "dns", "powerdns", "zone"), "DEMO.example.org"),
        ("hcloud", ("node_defaults", "size"), "CPX22"),
        ("hcloud", ("node_pools", 0, "size"), "Cpx22"),
    ],
)
def test_a_value_that_would_be_rewritten_is_refused(base, path, written):
    errors = errors_at(changed(base, path, written))
    assert path_text(path) in errors, f"{written!r} at {path_text(path)} was accepted; errors: {errors}"


def test_accepted_values_reach_the_model_as_written():
    for base in BASES:
        model = json.dumps(load_cluster(BASES[base])[0].to_dict())
        for path in (p for b, p in TEXT_FIELDS if b == base):
            value = _value(base, path)
            if path[-1] in ("key", "kubernetes_version") or path[:2] == ("image_factory", "url"):
                continue  # documented conversions: META keys become numbers, the k8s version loses its "v"
            assert json.dumps(value)[1:-1] in model, f"{path_text(path)}: {value!r} is not in the model"
