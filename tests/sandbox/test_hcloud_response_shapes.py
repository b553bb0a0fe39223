"""Every shape the Hetzner simulator can give a resource, read back through the spec and the official client.

Response checking (``validate``) only sees what is asked: the tests once built TCP services only, so HTTP/HTTPS
services without the required ``http.timeout_idle`` went unnoticed until the hcloud library crashed reading one.
Here every variant a request can choose (service protocols, target types, firewall rule protocols and resources,
address families, network attachments) is made, and each kind is then read one by one and as a list, by raw calls
(checked against the spec inside the simulator and again from its log) and by the hcloud library.
"""

from __future__ import annotations

from typing import Any

from hcloud_testlib import api, make_client, succeeded

SERVER = {"server_type": "cx22", "image": "debian-12", "location": "fsn1"}
HEALTH_TCP = {"protocol": "tcp", "port": 6443, "interval": 15, "timeout": 10, "retries": 3}
HEALTH_HTTP = {**HEALTH_TCP, "protocol": "http", "http": {"domain": None, "path": "/healthz"}}


def _service(protocol: str, port: int, **extra: Any) -> dict[str, Any]:
    health = HEALTH_HTTP if protocol != "tcp" else HEALTH_TCP
    return {
        "protocol": protocol,
        "listen_port": port,
        "destination_port": 6443,
        "proxyprotocol": False,
        "health_check": health,
        **extra,
    }


def build_every_variant(sim: Any) -> None:
    network = succeeded(api(sim, "POST", "/v1/networks", {"name": "net", "ip_range": "10.0.0.0/16"}))["network"]
    subnet = {"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.1.0/24"}
    succeeded(api(sim, "POST", f"/v1/networks/{network['id']}/actions/add_subnet", subnet))
    route = {"destination": "10.100.1.0/24", "gateway": "10.0.1.1"}
    succeeded(api(sim, "POST", f"/v1/networks/{network['id']}/actions/add_route", route))
    succeeded(api(sim, "POST", "/v1/networks", {"name": "bare-net", "ip_range": "10.1.0.0/16"}))
    group = succeeded(api(sim, "POST", "/v1/placement_groups", {"name": "spread", "type": "spread"}))["placement_group"]
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq9pOpE4a3qC+4CSTQvDw5PPPvBt0cO2gZZ3ZQ1sBcN shapes@test"
    succeeded(api(sim, "POST", "/v1/ssh_keys", {"name": "key", "public_key": key}))
    plain = succeeded(api(sim, "POST", "/v1/servers", {**SERVER, "name": "plain", "labels": {"role": "cp"}}))["server"]
    succeeded(
        api(
            sim,
            "POST",
            "/v1/servers",
            {
                **SERVER,
                "name": "private",
                "networks": [network["id"]],
                "placement_group": group["id"],
                "ssh_keys": ["key"],
                "public_net": {"enable_ipv4": False, "enable_ipv6": True},
            },
        )
    )
    snapshot = {"type": "snapshot", "description": "shapes", "labels": {"kind": "snap"}}
    succeeded(api(sim, "POST", f"/v1/servers/{plain['id']}/actions/create_image", snapshot))
    for kind in ("ipv4", "ipv6"):
        body = {"type": kind, "home_location": "fsn1", "name": f"fip-{kind}"}
        if kind == "ipv4":
            body["server"] = plain["id"]
        succeeded(api(sim, "POST", "/v1/floating_ips", body))
    rules = [
        {"direction": "in", "protocol": "tcp", "port": "6443", "source_ips": ["0.0.0.0/0", "::/0"]},
        {"direction": "in", "protocol": "udp", "port": "51820-51830", "source_ips": ["10.0.0.0/8"]},
        {"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0"], "description": "ping"},
        {"direction": "out", "protocol": "esp", "destination_ips": ["0.0.0.0/0"]},
        {"direction": "out", "protocol": "gre", "destination_ips": ["0.0.0.0/0"]},
    ]
    applied = [
        {"type": "server", "server": {"id": plain["id"]}},
        {"type": "label_selector", "label_selector": {"selector": "role=cp"}},
    ]
    succeeded(api(sim, "POST", "/v1/firewalls", {"name": "fw", "rules": rules, "apply_to": applied}))
    http = {"cookie_name": "KEEP", "cookie_lifetime": 300, "timeout_idle": 120, "sticky_sessions": True}
    services = [  # creating a load balancer, the spec asks for the whole http object
        _service("tcp", 6443),
        _service("http", 8080, http=http),
        _service("https", 443, http={**http, "timeout_idle": 50, "certificates": [], "redirect_http": True}),
    ]
    targets = [
        {"type": "server", "server": {"id": plain["id"]}},
        {"type": "label_selector", "label_selector": {"selector": "role=cp"}, "use_private_ip": False},
        {"type": "label_selector", "label_selector": {"selector": "role=none"}, "use_private_ip": True},
        {"type": "ip", "ip": {"ip": "203.0.113.7"}},
    ]
    lb = {"name": "api", "load_balancer_type": "lb11", "location": "fsn1", "services": services, "targets": targets}
    made = succeeded(api(sim, "POST", "/v1/load_balancers", {**lb, "network": network["id"]}))["load_balancer"]
    for protocol, port in (("http", 80), ("https", 8443)):  # adding a service, http's fields have defaults
        succeeded(api(sim, "POST", f"/v1/load_balancers/{made['id']}/actions/add_service", _service(protocol, port)))
    succeeded(api(sim, "POST", "/v1/load_balancers", {**lb, "name": "bare", "services": [], "targets": []}))
    hidden = {**lb, "name": "hidden", "services": [], "targets": [], "public_interface": False}
    hidden["network"] = network["id"]
    succeeded(api(sim, "POST", "/v1/load_balancers", hidden))
    ptr = {"ip": made["public_net"]["ipv4"]["ip"], "dns_ptr": "api.example.com"}
    succeeded(api(sim, "POST", f"/v1/load_balancers/{made['id']}/actions/change_dns_ptr", ptr))
    # primary IPs alone and with PTR records, volumes loose and attached, an ISO on a server
    alone = {"name": "alone-v6", "type": "ipv6", "location": "fsn1", "labels": {"k": "v"}}
    succeeded(api(sim, "POST", "/v1/primary_ips", alone))
    host6 = plain["public_net"]["ipv6"]["ip"].split("/")[0] + "1"
    ptr = {"ip": host6, "dns_ptr": "plain.example.com"}
    succeeded(api(sim, "POST", f"/v1/servers/{plain['id']}/actions/change_dns_ptr", ptr))
    succeeded(api(sim, "POST", "/v1/volumes", {"name": "loose", "size": 10, "location": "fsn1", "format": "xfs"}))
    succeeded(
        api(sim, "POST", "/v1/volumes", {"name": "attached", "size": 10, "server": plain["id"], "automount": False})
    )
    iso = succeeded(api(sim, "GET", "/v1/isos?architecture=x86"))["isos"][0]
    succeeded(api(sim, "POST", f"/v1/servers/{plain['id']}/actions/attach_iso", {"iso": iso["name"]}))


KINDS = (
    "servers",
    "networks",
    "placement_groups",
    "ssh_keys",
    "floating_ips",
    "primary_ips",
    "firewalls",
    "images",
    "volumes",
    "isos",
)


def test_every_variant_reads_back_as_the_spec_says(hcloud_sim) -> None:
    build_every_variant(hcloud_sim)
    for kind in (*KINDS, "load_balancers"):
        listed = succeeded(api(hcloud_sim, "GET", f"/v1/{kind}"))[kind]
        assert listed, kind
        for item in listed:
            succeeded(api(hcloud_sim, "GET", f"/v1/{kind}/{item['id']}"))
    assert hcloud_sim.app.drift == []


def test_every_variant_reads_back_through_the_official_client(hcloud_sim) -> None:
    build_every_variant(hcloud_sim)
    client = make_client(hcloud_sim)
    for kind in (*KINDS, "load_balancers"):
        clients = getattr(client, kind)
        for item in clients.get_all():
            assert clients.get_by_id(item.id).id == item.id
    lb = client.load_balancers.get_by_name("api")
    timeouts = {service.listen_port: service.http.timeout_idle for service in lb.services if service.http}
    assert timeouts == {80: 50, 8443: 50, 8080: 120, 443: 50}


def test_answers_are_checked_unless_turned_off(tmp_path) -> None:
    """Not only the tests: a sandbox run (python -m sandbox start, the audits) checks every answer too."""
    from sandbox.simulators.hcloud import create_app

    assert create_app(tmp_path / "on", {}).validate is True
    assert create_app(tmp_path / "off", {"validate": "false"}).validate is False


def test_a_drift_names_the_field_inside_the_closest_branch() -> None:
    from sandbox.simulators.hcloud.contract import shared_contract

    contract = shared_contract()
    operation, _params, _other = contract.match("GET", "/load_balancers/1")
    assert operation is not None
    service = {**_service("http", 80), "http": {"cookie_name": "A", "cookie_lifetime": 300, "sticky_sessions": False}}
    lb = {"load_balancer": {"services": [service]}}
    problems = contract.check_response(operation, 200, lb)
    assert "load_balancer/services/0/http: 'timeout_idle' is a required property" in problems
