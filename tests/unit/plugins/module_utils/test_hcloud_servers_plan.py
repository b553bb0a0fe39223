# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of hcloud_servers: desired servers, plan, node facts, diff (_hcloud/servers_plan.py)."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.servers_plan import (
    ServerSpecError,
    desired_servers,
    diff,
    node_fact,
    plan,
)

NODE_FACT_KEYS = {
    "name",
    "role",
    "provider",
    "provider_id",
    "location",
    "public_ipv4",
    "public_ipv6",
    "private_ipv4",
    "talos_address",
    "status",
}


def params(**extra):
    base = {
        "cluster": "prod",
        "server_type": "cpx31",
        "image": "label:talosforge.io/arch=amd64",
        "network": "prod",
        "enable_ipv4": True,
        "enable_ipv6": True,
        "delete_protection": False,
        "servers": [
            {"name": "cp-1", "role": "controlplane", "pool": "cp", "location": "fsn1", "private_ipv4": "10.0.1.11"},
            {
                "name": "w-1",
                "role": "worker",
                "pool": "amd64",
                "location": "nbg1",
                "private_ipv4": "10.0.1.101",
                "server_type": "cx32",
                "labels": {"example.org/tier": "web"},
                "user_data": "secret-machine-config",
            },
        ],
    }
    base.update(extra)
    return base


def api_server(want, ident=7, status="running", **changes):
    server = {
        "id": ident,
        "name": want.name,
        "status": status,
        "labels": want.label_dict(),
        "protection": {"delete": want.delete_protection, "rebuild": False},
        "server_type": {"name": want.server_type},
        "location": {"name": want.location},
        "public_net": {"ipv4": {"ip": "127.88.0.5"}, "ipv6": {"ip": "2001:db8:5::/64"}},
        "private_net": [{"network": 1, "ip": want.private_ipv4}],
    }
    server.update(changes)
    return server


def test_desired_servers_take_module_defaults_and_the_collection_labels():
    cp, worker = desired_servers(params())
    assert cp.server_type == "cpx31" and worker.server_type == "cx32"
    assert cp.network == "prod" and cp.image == "label:talosforge.io/arch=amd64"
    assert worker.label_dict() == {
        "example.org/tier": "web",
        "talosforge.io/cluster": "prod",
        "talosforge.io/managed-by": "talosforge.cluster",
        "talosforge.io/role": "worker",
        "talosforge.io/pool": "amd64",
    }
    assert "secret" not in repr(worker)


def test_desired_servers_names_every_problem():
    bad = params(
        servers=[
            {"name": "a", "private_ipv4": "10.0.1.300"},
            {"name": "a"},
            {"name": "b", "role": "boss"},
            {"name": "c", "labels": {"-x": "y"}},
        ],
        image=None,
    )
    with pytest.raises(ServerSpecError) as caught:
        desired_servers(bad)
    text = str(caught.value)
    assert "servers[0] (a): set image" in text
    assert "servers[1]: name 'a' is also servers[0]" in text
    assert "servers[2]" in text and "servers[3].labels" in text


def test_private_ip_without_network_and_no_public_address_are_refused():
    with pytest.raises(ServerSpecError, match="private_ipv4 is set but no network"):
        desired_servers(params(network=None))
    with pytest.raises(ServerSpecError, match="needs a network"):
        desired_servers(params(network=None, enable_ipv4=False, enable_ipv6=False, servers=[{"name": "x"}]))


def test_plan_creates_what_is_missing_and_leaves_what_matches():
    cp, worker = desired_servers(params())
    steps = plan([cp, worker], [api_server(cp)], prune=False)
    assert [(s.name, s.action, s.changes) for s in steps] == [("cp-1", "unchanged", []), ("w-1", "create", ["create"])]


def test_plan_fixes_labels_protection_network_and_power_and_reports_other_drift():
    (cp,) = desired_servers(params(servers=[params()["servers"][0]], delete_protection=True))
    server = api_server(
        cp,
        status="off",
        labels={"talosforge.io/cluster": "prod"},
        private_net=[],
        protection={"delete": False},
        server_type={"name": "cx22"},
        location={"name": "hel1"},
    )
    (step,) = plan([cp], [server], prune=False)
    assert step.action == "update"
    assert step.changes == ["labels", "delete_protection", "attach_network", "power_on"]
    assert len(step.drift) == 2 and "server_type is cx22" in step.drift[0] and "location is hel1" in step.drift[1]


def test_extra_labels_on_a_server_are_not_drift():
    (cp,) = desired_servers(params(servers=[params()["servers"][0]]))
    server = api_server(cp, labels={**cp.label_dict(), "someone/else": "x"})
    assert plan([cp], [server], prune=False)[0].action == "unchanged"


def test_servers_not_in_the_list_are_deleted_only_with_prune():
    (cp,) = desired_servers(params(servers=[params()["servers"][0]]))
    stray = {**api_server(cp, ident=9), "name": "old-worker"}
    kept = plan([cp], [api_server(cp), stray], prune=False)[1]
    assert (kept.name, kept.action) == ("old-worker", "unchanged") and "prune: true" in kept.drift[0]
    pruned = plan([cp], [api_server(cp), stray], prune=True)[1]
    assert (pruned.name, pruned.action, pruned.report()["id"]) == ("old-worker", "delete", "9")


def test_node_fact_has_the_shape_of_docs_node_facts():
    cp, worker = desired_servers(params())
    fact = node_fact(api_server(cp, ident=52813146), cp)
    assert set(fact) == NODE_FACT_KEYS
    assert fact == {
        "name": "cp-1",
        "role": "controlplane",
        "provider": "hcloud",
        "provider_id": "52813146",
        "location": "fsn1",
        "public_ipv4": "127.88.0.5",
        "public_ipv6": "2001:db8:5::1",
        "private_ipv4": "10.0.1.11",
        "talos_address": "127.88.0.5",
        "status": "running",
    }
    private_only = node_fact(api_server(worker, public_net={"ipv4": None, "ipv6": None}), worker)
    assert private_only["public_ipv4"] is None and private_only["public_ipv6"] is None
    assert private_only["talos_address"] == "10.0.1.101"
    missing = node_fact(None, worker)
    assert set(missing) == NODE_FACT_KEYS and missing["provider_id"] is None and missing["name"] == "w-1"


def test_diff_shows_changing_servers_without_user_data():
    cp, worker = desired_servers(params())
    steps = plan([cp, worker], [api_server(cp, status="off")], prune=False)
    shown = diff(steps)
    assert set(shown["before"]) == {"cp-1"} and set(shown["after"]) == {"cp-1", "w-1"}
    assert shown["before"]["cp-1"]["status"] == "off" and shown["after"]["cp-1"]["status"] == "running"
    assert "secret-machine-config" not in repr(shown)
