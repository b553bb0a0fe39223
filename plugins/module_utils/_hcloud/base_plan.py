# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""hcloud_cluster_base without the API: the wanted resources from the module's options (checked before any request),
and for each one what to send to make an existing resource (or none) what is wanted.

A resource is one of ``KINDS``. ``Wanted.create_body`` is the one request that makes it whole where the API allows
(a network with its subnet, a firewall with its rules, a load balancer with its network, service and target);
``changes`` compares what the API returned with what is wanted and gives the requests that close each gap, in
order (a load balancer's type too), and ``drift`` names what the API cannot change in place (a load balancer's
location, a network's range, a floating IP's type or home location).
Nothing here talks to the API or imports Ansible.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    POOL,
    check_labels,
    cluster_labels,
    parse_selector,
)

# What the module converges, in the order of its result; the load balancer waits for the network (it joins it).
KINDS = ("networks", "firewalls", "placement_groups", "floating_ips", "load_balancers")
SINGULAR = {
    "networks": "network",
    "firewalls": "firewall",
    "placement_groups": "placement_group",
    "floating_ips": "floating_ip",
    "load_balancers": "load_balancer",
}
HEALTH_CHECK = {"protocol": "tcp", "interval": 15, "timeout": 10, "retries": 3}


@dataclass(frozen=True)
class Change:
    """One request that closes a gap: ``what`` for the plan, then method, path below the resource, body."""

    what: str
    method: str
    suffix: str
    body: dict[str, Any]


@dataclass
class Wanted:
    kind: str
    name: str
    labels: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)
    protect: bool | None = None  # None: the kind has no delete protection

    def key(self) -> str:
        return f"{SINGULAR[self.kind]}/{self.name}"


def _network(text: Any, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(text), strict=True)
    except ValueError as exc:
        raise InputError(f"{where}: {text!r} is not an IP range in CIDR form with its host bits zero ({exc})") from None


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InputError(f"{where}: {value!r} is not a port number from 1 to 65535")
    return value


def _rule(rule: Mapping[str, Any], where: str) -> dict[str, Any]:
    protocol = rule["protocol"]
    port = rule.get("port")
    if protocol in ("tcp", "udp"):
        if not port:
            raise InputError(f"{where}.port: a {protocol} rule needs a port or a range such as 1-65535")
        bounds = str(port).split("-")
        numbers = [int(b) if b.isdigit() else 0 for b in bounds]
        if len(bounds) > 2 or not all(1 <= n <= 65535 for n in numbers) or numbers != sorted(numbers):
            raise InputError(f"{where}.port: {port!r} is neither a port nor a range such as 30000-32767")
    elif port:
        raise InputError(f"{where}.port: a {protocol} rule has no port")
    ips = {}
    for side in ("source_ips", "destination_ips"):
        ips[side] = [str(_network(ip, f"{where}.{side}")) for ip in rule.get(side) or []]
    direction = rule["direction"]
    if not ips["source_ips" if direction == "in" else "destination_ips"]:
        raise InputError(f"{where}: an '{direction}' rule needs {'source' if direction == 'in' else 'destination'}_ips")
    return {
        "direction": direction,
        "protocol": protocol,
        "port": str(port) if port else None,
        **ips,
        "description": rule.get("description") or None,
    }


def wanted_resources(params: Mapping[str, Any]) -> list[Wanted]:
    """The resources the options ask for, checked (every problem names its option) before any request."""
    labels = cluster_labels(params["cluster"])
    base = params.get("name") or params["cluster"]
    protect = bool(params.get("delete_protection"))
    result = []
    network = params.get("network")
    ip_range = None
    if network:
        ip_range = _network(network["ip_range"], "network.ip_range")
        subnet = _network(network["subnet_ip_range"], "network.subnet_ip_range")
        if ip_range.version != 4 or subnet.version != 4 or not subnet.subnet_of(ip_range):
            raise InputError(
                f"network.subnet_ip_range: {subnet} must be an IPv4 range inside network.ip_range {ip_range} "
                "(Hetzner private networks are IPv4 only)"
            )
        settings = {"ip_range": str(ip_range), "subnet": str(subnet), "network_zone": network["network_zone"]}
        result.append(Wanted("networks", base, labels, settings, protect))
    firewall = params.get("firewall")
    if firewall is not None:
        rules = [_rule(rule, f"firewall.rules[{i}]") for i, rule in enumerate(firewall.get("rules") or [])]
        result.append(Wanted("firewalls", base, labels, {"rules": rules}))
    for index, pool in enumerate(params.get("placement_groups") or []):
        pool_labels = check_labels({**labels, POOL: pool}, f"placement_groups[{index}]")
        result.append(Wanted("placement_groups", f"{base}-{pool}", pool_labels, {"type": "spread"}))
    fip = params.get("floating_ip")
    if fip:
        address = fip.get("address")
        if address:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise InputError(f"floating_ip.address: {address!r} is not an IP address") from None
        settings = {"type": fip["type"], "home_location": fip["home_location"], "address": address or None}
        result.append(Wanted("floating_ips", f"{base}-api", labels, settings, protect))
    lb = params.get("load_balancer")
    if lb:
        parse_selector(lb["target_label_selector"])
        settings = {
            "type": lb["type"],
            "location": lb["location"],
            "listen_port": _port(lb["listen_port"], "load_balancer.listen_port"),
            "destination_port": _port(lb["destination_port"], "load_balancer.destination_port"),
            "selector": lb["target_label_selector"],
            "private": bool(lb["use_private_ip"]) and network is not None,
            "network": base if network else None,
        }
        result.append(Wanted("load_balancers", f"{base}-api", labels, settings, protect))
    return result


# -- bodies ----------------------------------------------------------------------------------------------------------


def _service(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "protocol": "tcp",
        "listen_port": settings["listen_port"],
        "destination_port": settings["destination_port"],
        "proxyprotocol": False,
        "health_check": {**HEALTH_CHECK, "port": settings["destination_port"]},
    }


def _target(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "label_selector",
        "label_selector": {"selector": settings["selector"]},
        "use_private_ip": settings["private"],
    }


def create_body(want: Wanted, network_id: int | None = None) -> dict[str, Any]:
    """The body of the POST that makes ``want`` (``network_id``: the network a load balancer joins)."""
    s = want.settings
    body: dict[str, Any] = {"name": want.name, "labels": dict(want.labels)}
    if want.kind == "networks":
        subnet = {"type": "cloud", "ip_range": s["subnet"], "network_zone": s["network_zone"]}
        body.update(ip_range=s["ip_range"], subnets=[subnet])
    elif want.kind == "firewalls":
        body["rules"] = s["rules"]
    elif want.kind == "placement_groups":
        body["type"] = s["type"]
    elif want.kind == "floating_ips":
        body.update(type=s["type"], home_location=s["home_location"], description="Kubernetes API")
    else:
        body.update(
            load_balancer_type=s["type"],
            location=s["location"],
            algorithm={"type": "round_robin"},
            public_interface=True,
            services=[_service(s)],
            targets=[_target(s)],
        )
        if network_id is not None:
            body["network"] = network_id
    return body


# -- comparing -------------------------------------------------------------------------------------------------------


def _canonical_rules(rules: Any) -> list[str]:
    shown = []
    for rule in rules or []:
        item = {
            "direction": rule.get("direction"),
            "protocol": rule.get("protocol"),
            "port": rule.get("port") or None,
            "source_ips": sorted(str(ipaddress.ip_network(ip, strict=False)) for ip in rule.get("source_ips") or []),
            "destination_ips": sorted(
                str(ipaddress.ip_network(ip, strict=False)) for ip in rule.get("destination_ips") or []
            ),
            "description": rule.get("description") or None,
        }
        shown.append(json.dumps(item, sort_keys=True))
    return sorted(shown)


def _name_of(value: Any) -> Any:
    return value.get("name") if isinstance(value, Mapping) else value


def drift(want: Wanted, found: Mapping[str, Any]) -> list[str]:
    """What differs and cannot be changed in place: said, never acted on."""
    s, notes = want.settings, []
    if want.kind == "networks" and found.get("ip_range") != s["ip_range"]:
        notes.append(
            f"network {want.name} has the range {found.get('ip_range')}, wanted {s['ip_range']}: a network's range is "
            "only extended by hand (change_ip_range), never by this module"
        )
    if want.kind == "load_balancers" and _name_of(found.get("location")) != s["location"]:
        have = _name_of(found.get("location"))
        notes.append(f"load balancer {want.name} has the location {have}, wanted {s['location']}: not changed in place")
    if want.kind == "floating_ips":
        for what, have, wanted in (
            ("type", found.get("type"), s["type"]),
            ("home location", _name_of(found.get("home_location")), s["home_location"]),
        ):
            if have != wanted:
                notes.append(f"floating IP {want.name} has the {what} {have}, wanted {wanted}: not changed in place")
    return notes


def changes(want: Wanted, found: Mapping[str, Any], network_id: int | None = None) -> list[Change]:
    """The requests that make the resource the API returned (``found``) what is wanted, in the order to send them."""
    result = []
    labels = dict(found.get("labels") or {})
    if any(labels.get(key) != value for key, value in want.labels.items()):
        result.append(Change("labels", "PUT", "", {"labels": {**labels, **want.labels}}))
    if want.protect is not None and bool((found.get("protection") or {}).get("delete")) != want.protect:
        result.append(Change("delete protection", "POST", "/actions/change_protection", {"delete": want.protect}))
    s = want.settings
    if want.kind == "networks":
        if not any(sub.get("ip_range") == s["subnet"] for sub in found.get("subnets") or []):
            body = {"type": "cloud", "ip_range": s["subnet"], "network_zone": s["network_zone"]}
            result.append(Change(f"subnet {s['subnet']}", "POST", "/actions/add_subnet", body))
    elif want.kind == "firewalls":
        if _canonical_rules(found.get("rules")) != _canonical_rules(s["rules"]):
            result.append(Change("rules", "POST", "/actions/set_rules", {"rules": s["rules"]}))
    elif want.kind == "load_balancers":
        result += _load_balancer_changes(s, found, network_id)
    return result


def _load_balancer_changes(s: Mapping[str, Any], found: Mapping[str, Any], network_id: int | None) -> list[Change]:
    result = []
    if _name_of(found.get("load_balancer_type")) != s["type"]:
        result.append(Change(f"type {s['type']}", "POST", "/actions/change_type", {"load_balancer_type": s["type"]}))
    if network_id is not None and not any(net.get("network") == network_id for net in found.get("private_net") or []):
        result.append(Change("network", "POST", "/actions/attach_to_network", {"network": network_id}))
    service = next((x for x in found.get("services") or [] if x.get("listen_port") == s["listen_port"]), None)
    wanted_service = _service(s)
    if service is None:
        result.append(Change(f"service {s['listen_port']}", "POST", "/actions/add_service", wanted_service))
    elif service.get("protocol") != "tcp" or service.get("destination_port") != s["destination_port"]:
        result.append(Change(f"service {s['listen_port']}", "POST", "/actions/update_service", wanted_service))
    target = next(
        (
            t
            for t in found.get("targets") or []
            if t.get("type") == "label_selector" and (t.get("label_selector") or {}).get("selector") == s["selector"]
        ),
        None,
    )
    if target is None:
        result.append(Change("target", "POST", "/actions/add_target", _target(s)))
    elif bool(target.get("use_private_ip")) != s["private"]:
        body = {"type": "label_selector", "label_selector": {"selector": s["selector"]}}
        result.append(Change("target", "POST", "/actions/remove_target", body))
        result.append(Change("target", "POST", "/actions/add_target", _target(s)))
    return result


def foreign(want: Wanted, found: Mapping[str, Any]) -> str | None:
    """Why a resource of the wanted name is not the cluster's (it lacks its labels), or None when it is."""
    labels = found.get("labels") or {}
    if all(labels.get(key) == value for key, value in cluster_labels_of(want).items()):
        return None
    return (
        f"a {SINGULAR[want.kind].replace('_', ' ')} named {want.name} exists (id {found.get('id')}) without the "
        f"cluster's labels {cluster_labels_of(want)}: it is not this cluster's and is left alone; rename it, label "
        "it, or give the cluster another name"
    )


def cluster_labels_of(want: Wanted) -> dict[str, str]:
    return {key: value for key, value in want.labels.items() if key != POOL}
