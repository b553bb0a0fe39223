# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every field docs/cluster-definition.md calls required, in the modes where it is required: removing it from an
otherwise valid definition is an error at its own path (never a model with a null in its place)."""

from __future__ import annotations

import pytest
from cluster_definition_cases import BASES, changed, errors_at, path_text

NOCLOUD = changed("proxmox", ("provider", "proxmox", "addressing"), "nocloud")
NOCLOUD["node_defaults"]["meta"] = []

# (base, field removed, the path of the error expected); the table follows the documentation section by section.
REQUIRED = [
    # top level
    *[(base, (key,), key) for base in BASES for key in ("name", "talos_version", "kubernetes_version")],
    *[(base, (key,), key) for base in BASES for key in ("provider", "network")],
    # provider
    *[(base, ("provider", "type"), "provider.type") for base in BASES],
    ("proxmox", ("provider", "proxmox"), "provider.proxmox"),
    ("proxmox", ("provider", "proxmox", "api_url"), "provider.proxmox.api_url"),
    ("proxmox", ("provider", "proxmox", "nodes"), "provider.proxmox.nodes"),
    # network: nodes is required whatever the provider and addressing
    *[(base, ("network", "nodes"), "network.nodes") for base in BASES],
    # static addressing (meta and nocloud): every node an address, every pool a first_address
    ("proxmox", ("nodes", 0, "address"), "nodes[0].address"),
    ("proxmox", ("node_pools", 0, "first_address"), "node_pools[0].first_address"),
    (NOCLOUD, ("nodes", 1, "address"), "nodes[1].address"),
    (NOCLOUD, ("node_pools", 0, "first_address"), "node_pools[0].first_address"),
    # Hetzner: a server type somewhere for every node
    ("hcloud", ("node_defaults", "size"), "node_pools[0].size"),
    # endpoint: several control planes need a shared one
    ("proxmox", ("endpoint",), "endpoint"),
    ("hcloud", ("endpoint", "load_balancer"), "endpoint"),
    # pools and nodes
    *[("proxmox", ("nodes", 0, key), f"nodes[0].{key}") for key in ("name", "role")],
    *[("hcloud", ("node_pools", 1, key), f"node_pools[1].{key}") for key in ("name", "role", "count")],
    *[("proxmox", ("node_defaults", "meta", 0, key), f"node_defaults.meta[0].{key}") for key in ("key", "value")],
    # platform
    *[
        ("proxmox", ("platform", "load_balancer", "pools", 0, key), f"platform.load_balancer.pools[0].{key}")
        for key in ("name", "addresses")
    ],
    ("proxmox", ("platform", "cert_manager", "email"), "platform.cert_manager.email"),
    ("proxmox", ("platform", "dns", "powerdns", "zone"), "platform.dns.powerdns.zone"),
    # gitops
    ("proxmox", ("gitops", "flux", "url"), "gitops.flux.url"),
    # edge
    *[("proxmox", ("edge", key), f"edge.{key}") for key in ("host", "domain", "acme")],
    ("proxmox", ("edge", "acme", "email"), "edge.acme.email"),
    ("proxmox", ("edge", "mesh", "login_server"), "edge.mesh.login_server"),
]


def _id(case: tuple) -> str:
    base = case[0] if isinstance(case[0], str) else "nocloud"
    return f"{base}:{path_text(case[1])}"


@pytest.mark.parametrize("base", list(BASES))
def test_the_bases_are_valid(base):
    assert errors_at(BASES[base]) == {}
    assert errors_at(NOCLOUD) == {}


@pytest.mark.parametrize("base, field, expected", REQUIRED, ids=[_id(c) for c in REQUIRED])
def test_a_missing_required_field_is_an_error_at_its_path(base, field, expected):
    errors = errors_at(changed(base, field, remove=True))
    assert expected in errors, f"no error at {expected}; errors: {errors}"


@pytest.mark.parametrize("base, field, expected", REQUIRED, ids=[_id(c) for c in REQUIRED])
def test_a_required_field_written_empty_is_an_error_at_its_path(base, field, expected):
    """``key:`` with nothing after it is YAML null: the same as leaving the key out."""
    errors = errors_at(changed(base, field, None))
    assert expected in errors, f"no error at {expected}; errors: {errors}"


# A section written as an empty mapping holds none of its required fields.
EMPTY_SECTIONS = [
    ("proxmox", ("network",), "network.nodes"),
    ("hcloud", ("network",), "network.nodes"),
    ("proxmox", ("provider",), "provider.type"),
    ("proxmox", ("provider", "proxmox"), "provider.proxmox.api_url"),
    ("proxmox", ("edge",), "edge.host"),
    ("proxmox", ("edge",), "edge.domain"),
    ("proxmox", ("edge",), "edge.acme"),
    ("proxmox", ("edge", "acme"), "edge.acme.email"),
    ("proxmox", ("nodes", 0), "nodes[0].name"),
    ("proxmox", ("node_pools", 0), "node_pools[0].count"),
    ("proxmox", ("platform", "load_balancer", "pools", 0), "platform.load_balancer.pools[0].name"),
]


@pytest.mark.parametrize(
    "base, field, expected", EMPTY_SECTIONS, ids=[f"{c[0]}:{path_text(c[1])}->{c[2]}" for c in EMPTY_SECTIONS]
)
def test_an_empty_section_reports_its_required_fields(base, field, expected):
    errors = errors_at(changed(base, field, {}))
    assert expected in errors, f"no error at {expected}; errors: {errors}"


def test_proxmox_meta_without_node_network_has_no_null_network():
    """The audit's case: static (META) addressing and no network.nodes."""
    document = changed("proxmox", ("network",), {"gateway": "10.0.1.1"})
    errors = errors_at(document)
    assert "network.nodes" in errors
    assert "is required" in errors["network.nodes"][0]


@pytest.mark.parametrize(
    "field",
    [("platform", "load_balancer", "pools", 0, "addresses"), ("provider", "proxmox", "nodes")],
    ids=path_text,
)
def test_a_required_list_written_empty_is_an_error_at_its_path(field):
    errors = errors_at(changed("proxmox", field, []))
    assert path_text(field) in errors, errors
