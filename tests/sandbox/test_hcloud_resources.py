"""The official hcloud library (2.27.0) driving the simulator, one resource kind at a time, contract checks on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hcloud.firewalls import FirewallResource, FirewallResourceLabelSelector, FirewallRule
from hcloud.images import Image
from hcloud.load_balancer_types import LoadBalancerType
from hcloud.load_balancers import (
    LoadBalancerHealthCheck,
    LoadBalancerService,
    LoadBalancerTarget,
    LoadBalancerTargetLabelSelector,
)
from hcloud.locations import Location
from hcloud.networks import NetworkSubnet
from hcloud.server_types import ServerType
from hcloud_testlib import api, checked_simulator, hcloud, make_client

APIException = hcloud.APIException


def make_server(client, name: str = "cp-1", **extra):
    created = client.servers.create(
        name=name,
        server_type=ServerType(name=extra.pop("server_type", "cx22")),
        image=extra.pop("image", Image(name="debian-12")),
        location=Location(name=extra.pop("location", "fsn1")),
        **extra,
    )
    created.action.wait_until_finished(max_retries=100)
    for action in created.next_actions:
        action.wait_until_finished(max_retries=100)
    return client.servers.get_by_id(created.server.id), created


def test_catalogue(client) -> None:
    names = {item.name for item in client.server_types.get_all()}
    assert {"cx22", "cpx31", "cax21", "ccx13"} <= names
    assert client.server_types.get_by_name("cax11").architecture == "arm"
    assert {item.name for item in client.locations.get_all()} == {"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
    assert client.locations.get_by_name("hel1").network_zone == "eu-central"
    assert client.load_balancer_types.get_by_name("lb11").max_targets == 25
    assert {image.architecture for image in client.images.get_all(name="debian-12", type="system")} == {"x86", "arm"}
    assert [image.name for image in client.images.get_all(type="system", architecture="arm")] == [
        "ubuntu-24.04",
        "debian-12",
    ]


def test_server_lifecycle_and_filters(client) -> None:
    server, created = make_server(client, labels={"cluster": "demo", "role": "controlplane"})
    assert created.root_password  # no SSH key given: a root password, as the API does
    assert created.action.command == "create_server"
    assert [action.command for action in created.next_actions] == ["start_server"]
    assert server.status == "running"
    assert server.public_net.ipv4.ip.startswith("127.88.")
    assert server.public_net.ipv6.ip.startswith("2001:db8:")
    assert server.server_type.name == "cx22" and server.location.name == "fsn1" and server.image.name == "debian-12"
    assert server.primary_disk_size == 40
    worker, _created = make_server(client, "worker-1", labels={"cluster": "demo", "role": "worker"})
    assert worker.id > server.id and server.id > 1_000_000
    assert [s.name for s in client.servers.get_all(label_selector="cluster=demo,role=worker")] == ["worker-1"]
    assert client.servers.get_by_name("cp-1").id == server.id
    assert [s.name for s in client.servers.get_all(status=["running"])] == ["cp-1", "worker-1"]

    server = server.update(name="cp-one", labels={"cluster": "demo"})
    assert (server.name, server.labels) == ("cp-one", {"cluster": "demo"})
    with pytest.raises(APIException) as taken:
        worker.update(name="cp-one")
    assert taken.value.code == "uniqueness_error"
    with pytest.raises(APIException) as taken:
        make_server(client, "worker-1")
    assert taken.value.code == "uniqueness_error"

    server.power_off().wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.id).status == "off"
    server.power_on().wait_until_finished(max_retries=100)
    server.shutdown().wait_until_finished(max_retries=100)
    server.reset().wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.id).status == "running"

    server.change_protection(delete=True, rebuild=True).wait_until_finished(max_retries=100)
    with pytest.raises(APIException) as protected:
        server.delete()
    assert protected.value.code == "protected"
    server.change_protection(delete=False, rebuild=False).wait_until_finished(max_retries=100)
    server.delete().wait_until_finished(max_retries=100)
    worker.delete().wait_until_finished(max_retries=100)
    assert client.servers.get_all() == []


def test_listing_pages_through_more_than_one_page(client, hcloud_sim) -> None:
    for index in range(53):  # the library asks for 50 a page
        status, _h, body = api(
            hcloud_sim,
            "POST",
            "/v1/servers",
            {"name": f"w{index}", "server_type": "cpx11", "image": "ubuntu-24.04", "start_after_create": False},
        )
        assert status == 201, body
    assert len(client.servers.get_all()) == 53  # the library follows meta.pagination
    pages = [
        r["query"].get("page") for r in hcloud_sim.requests() if r["method"] == "GET" and r["path"] == "/v1/servers"
    ]
    assert pages == [["1"], ["2"]]
    assert {s.status for s in client.servers.get_all()} == {"off"}
    status, _h, body = api(hcloud_sim, "GET", "/v1/servers?per_page=10&page=6")
    assert [s["name"] for s in body["servers"]] == ["w50", "w51", "w52"]
    assert body["meta"]["pagination"]["last_page"] == 6


def test_actions_by_id_and_per_resource(client, hcloud_sim) -> None:
    server, created = make_server(client)
    ids = [created.action.id, created.next_actions[0].id]
    status, _h, body = api(hcloud_sim, "GET", f"/v1/actions?id={ids[0]}&id={ids[1]}")
    assert status == 200
    assert [(a["id"], a["status"], a["progress"]) for a in body["actions"]] == [
        (ids[0], "success", 100),
        (ids[1], "success", 100),
    ]
    assert client.actions.get_by_id(ids[0]).command == "create_server"
    assert {a.command for a in server.get_actions()} == {"create_server", "start_server"}
    status, _h, body = api(hcloud_sim, "GET", f"/v1/servers/actions/{ids[1]}")
    assert (status, body["action"]["resources"]) == (200, [{"id": server.id, "type": "server"}])
    assert api(hcloud_sim, "GET", f"/v1/networks/actions/{ids[1]}")[0] == 404
    assert api(hcloud_sim, "GET", f"/v1/servers/{server.id}/actions/{ids[0]}")[0] == 200


def test_networks_and_subnets(client) -> None:
    network = client.networks.create(
        name="demo",
        ip_range="10.0.0.0/16",
        labels={"cluster": "demo"},
        subnets=[NetworkSubnet(type="cloud", ip_range="10.0.1.0/24", network_zone="eu-central")],
    )
    network.add_subnet(
        NetworkSubnet(type="cloud", ip_range="10.0.2.0/24", network_zone="eu-central")
    ).wait_until_finished()
    with pytest.raises(APIException) as outside:
        network.add_subnet(NetworkSubnet(type="cloud", ip_range="10.9.0.0/24", network_zone="eu-central"))
    assert outside.value.code == "invalid_input"
    network = client.networks.get_by_id(network.id)
    assert [s.ip_range for s in network.subnets] == ["10.0.1.0/24", "10.0.2.0/24"]
    assert network.subnets[0].gateway == "10.0.0.1"

    server, _created = make_server(client, networks=[network])
    assert server.private_net[0].ip == "10.0.1.1" and server.private_net[0].network.id == network.id
    other, _created = make_server(client, "cp-2")
    other.attach_to_network(network, ip="10.0.2.7").wait_until_finished()
    other = client.servers.get_by_id(other.id)
    assert other.private_net[0].ip == "10.0.2.7"
    assert sorted(s.id for s in client.networks.get_by_id(network.id).servers) == sorted([server.id, other.id])
    # deleting it now would detach both servers, as the spec says (test_hcloud_api_rules.py); detach them first
    other.detach_from_network(network).wait_until_finished()
    server.detach_from_network(network).wait_until_finished()
    network.delete_subnet(NetworkSubnet(ip_range="10.0.2.0/24")).wait_until_finished()
    assert [s.ip_range for s in client.networks.get_by_id(network.id).subnets] == ["10.0.1.0/24"]
    network.change_protection(delete=True).wait_until_finished()
    with pytest.raises(APIException) as protected:
        network.delete()
    assert protected.value.code == "protected"
    network.change_protection(delete=False).wait_until_finished()
    assert network.delete() is True
    assert client.networks.get_all() == []


def test_firewalls(client) -> None:
    rules = [
        FirewallRule(direction="in", protocol="tcp", port="6443", source_ips=["198.51.100.0/24"], description="k8s"),
        FirewallRule(direction="in", protocol="tcp", port="50000", source_ips=["198.51.100.0/24"]),
    ]
    server, _created = make_server(client, labels={"cluster": "demo"})
    created = client.firewalls.create(
        name="demo",
        rules=rules,
        labels={"cluster": "demo"},
        resources=[FirewallResource(type="server", server=server)],
    )
    for action in created.actions:
        action.wait_until_finished()
    firewall = client.firewalls.get_by_id(created.firewall.id)
    assert [r.port for r in firewall.rules] == ["6443", "50000"]
    assert [(a.type, a.server.id) for a in firewall.applied_to] == [("server", server.id)]
    assert client.servers.get_by_id(server.id).public_net.firewalls[0].firewall.id == firewall.id
    for action in firewall.set_rules([FirewallRule(direction="in", protocol="icmp", source_ips=["0.0.0.0/0"])]):
        action.wait_until_finished()
    assert [r.protocol for r in client.firewalls.get_by_id(firewall.id).rules] == ["icmp"]
    selector = FirewallResource(type="label_selector", label_selector=FirewallResourceLabelSelector("cluster=demo"))
    for action in firewall.apply_to_resources([selector]):
        action.wait_until_finished()
    for action in firewall.remove_from_resources([FirewallResource(type="server", server=server), selector]):
        action.wait_until_finished()
    assert client.firewalls.get_by_id(firewall.id).applied_to == []
    assert firewall.delete() is True


def test_placement_groups(client) -> None:
    group = client.placement_groups.create(name="cp", type="spread", labels={"cluster": "demo"}).placement_group
    server, _created = make_server(client, placement_group=group)
    assert server.placement_group.id == group.id
    assert client.placement_groups.get_by_id(group.id).servers == [server.id]
    assert [g.name for g in client.placement_groups.get_all(label_selector="cluster=demo")] == ["cp"]
    server.delete().wait_until_finished()
    assert client.placement_groups.get_by_id(group.id).servers == []
    assert group.delete() is True


def test_load_balancers(client) -> None:
    network = client.networks.create(
        name="demo",
        ip_range="10.0.0.0/16",
        subnets=[NetworkSubnet(type="cloud", ip_range="10.0.1.0/24", network_zone="eu-central")],
    )
    server, _created = make_server(client, labels={"role": "controlplane"}, networks=[network])
    health = LoadBalancerHealthCheck(protocol="tcp", port=6443, interval=5, timeout=3, retries=3)
    created = client.load_balancers.create(
        name="api",
        load_balancer_type=LoadBalancerType(name="lb11"),
        location=Location(name="fsn1"),
        services=[
            LoadBalancerService(
                protocol="tcp", listen_port=6443, destination_port=6443, proxyprotocol=False, health_check=health
            )
        ],
        targets=[LoadBalancerTarget(type="server", server=server, use_private_ip=False)],
        labels={"cluster": "demo"},
    )
    created.action.wait_until_finished()
    lb = client.load_balancers.get_by_id(created.load_balancer.id)
    assert lb.public_net.ipv4.ip.startswith("127.88.")
    assert lb.load_balancer_type.name == "lb11" and lb.location.name == "fsn1"
    assert [(t.type, t.server.id, t.health_status[0].status) for t in lb.targets] == [("server", server.id, "healthy")]
    lb.attach_to_network(network).wait_until_finished()
    lb.add_target(
        LoadBalancerTarget(
            type="label_selector",
            label_selector=LoadBalancerTargetLabelSelector(selector="role=controlplane"),
            use_private_ip=True,
        )
    ).wait_until_finished()
    lb.add_service(
        LoadBalancerService(
            protocol="tcp", listen_port=50000, destination_port=50000, proxyprotocol=False, health_check=health
        )
    ).wait_until_finished()
    lb = client.load_balancers.get_by_id(lb.id)
    assert lb.private_net[0].ip == "10.0.1.2"
    assert [s.listen_port for s in lb.services] == [6443, 50000]
    assert [t.server.id for t in lb.targets[1].targets] == [server.id]
    with pytest.raises(APIException):
        lb.add_service(
            LoadBalancerService(
                protocol="tcp", listen_port=6443, destination_port=1, proxyprotocol=False, health_check=health
            )
        )
    lb.delete_service(LoadBalancerService(listen_port=50000)).wait_until_finished()
    lb.remove_target(LoadBalancerTarget(type="server", server=server)).wait_until_finished()
    lb = client.load_balancers.get_by_id(lb.id)
    assert [t.type for t in lb.targets] == ["label_selector"]
    lb.delete().action.wait_until_finished()
    assert client.load_balancers.get_all() == []


def test_floating_ips(client) -> None:
    server, _created = make_server(client)
    created = client.floating_ips.create(
        type="ipv4", home_location=Location(name="fsn1"), description="api", labels={"cluster": "demo"}, name="api-vip"
    )
    ip = client.floating_ips.get_by_id(created.floating_ip.id)
    assert ip.ip.startswith("127.88.") and ip.server is None and ip.home_location.name == "fsn1"
    ip.assign(server).wait_until_finished()
    assert client.floating_ips.get_by_id(ip.id).server.id == server.id
    assert [f.id for f in client.servers.get_by_id(server.id).public_net.floating_ips] == [ip.id]
    ip.unassign().wait_until_finished()
    assert client.floating_ips.get_by_id(ip.id).server is None
    assert ip.delete() is True


def test_ssh_keys(client) -> None:
    key = client.ssh_keys.create(name="ops", public_key=_public_key(), labels={"cluster": "demo"})
    assert key.fingerprint.count(":") == 15
    assert client.ssh_keys.get_by_fingerprint(key.fingerprint).id == key.id
    with pytest.raises(APIException) as duplicate:
        client.ssh_keys.create(name="ops2", public_key=_public_key())
    assert duplicate.value.code == "uniqueness_error"
    assert duplicate.value.details == {"fields": [{"name": "public_key"}]}
    server, created = make_server(client, ssh_keys=[key])
    assert created.root_password is None
    assert key.update(labels={}).labels == {}
    assert key.delete() is True


def test_snapshot_images(client, hcloud_sim) -> None:
    server, _created = make_server(client)
    made = server.create_image(description="talos v1.13.9", type="snapshot", labels={"os": "talos"})
    assert made.image.status == "creating"
    made.action.wait_until_finished()
    image = client.images.get_by_id(made.image.id)
    assert (image.type, image.status, image.description, image.disk_size) == (
        "snapshot",
        "available",
        "talos v1.13.9",
        40,
    )
    assert image.image_size > 0 and image.created_from.id == server.id
    assert [i.id for i in client.images.get_all(type="snapshot", label_selector="os=talos")] == [image.id]
    image = image.update(description="renamed", labels={"os": "talos", "arch": "amd64"})
    assert image.description == "renamed"
    image.change_protection(delete=True).wait_until_finished()
    with pytest.raises(APIException) as protected:
        image.delete()
    assert protected.value.code == "protected"
    image.change_protection(delete=False).wait_until_finished()
    from_snapshot, _created = make_server(client, "from-snapshot", image=image)
    assert from_snapshot.image.id == image.id
    assert image.delete() is True
    assert client.images.get_all(type="snapshot") == []


def _public_key() -> str:
    import base64

    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + b"\x07" * 32
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " ops@example"


def test_parallel_clients_get_distinct_servers_and_addresses(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with checked_simulator(tmp_path, action_latency_ms=100) as simulator:
        client = make_client(simulator)

        def one(index: int):
            return make_server(client, f"node-{index}", labels={"pool": "parallel"})[0]

        with ThreadPoolExecutor(max_workers=10) as pool:
            servers = list(pool.map(one, range(20)))
        assert len({server.id for server in servers}) == 20
        assert len({server.public_net.ipv4.ip for server in servers}) == 20
        assert {server.status for server in client.servers.get_all(label_selector="pool=parallel")} == {"running"}
        assert not [r for r in simulator.requests() if r["status"] >= 500]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with checked_simulator(tmp_path) as simulator:
        server, _created = make_server(make_client(simulator), labels={"cluster": "demo"})
    with checked_simulator(tmp_path) as simulator:
        again = make_client(simulator).servers.get_by_id(server.id)
        assert (again.name, again.labels, again.public_net.ipv4.ip) == (
            "cp-1",
            {"cluster": "demo"},
            server.public_net.ipv4.ip,
        )
        assert make_server(make_client(simulator), "cp-2")[0].id > server.id
