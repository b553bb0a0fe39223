"""Networks and subnets, firewalls and placement groups."""

from __future__ import annotations

import ipaddress
from typing import Any

from ...httpbase import operation
from .app import Call, HcloudCore
from .errors import APIError
from .state import check_labels, now, public


class NetworkingMixin(HcloudCore):
    def create_named(self, kind: str, body: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        self.check_name(kind, body, required=True)
        check_labels(body.get("labels") or {})
        if any(item["name"] == body["name"] for item in self.store.all(kind)):
            raise APIError.of("uniqueness_error", "name is already used", {"fields": [{"name": "name"}]})
        resource = {
            "id": self.store.new_id(kind),
            "name": body["name"],
            "labels": dict(body.get("labels") or {}),
            "created": now(),
            **fields,
        }
        return self.store.add(kind, resource)

    def simple_action(self, kind: str, type_name: str, resource: dict[str, Any], command: str) -> Any:
        action = self.actions.create(command, [(type_name, resource["id"])], lock=False)
        self.store.save()
        return 201, {"action": self.actions.show(action)}

    def delete_resource(self, kind: str, resource: dict[str, Any]) -> Any:
        if (resource.get("protection") or {}).get("delete"):
            raise APIError.of("protected", f"{kind[:-1]} {resource['id']} is protected against deletion")
        self.store.remove(kind, resource["id"])
        self.store.save()
        return 204, None

    # --- networks -------------------------------------------------------------------------------------------------
    @operation("GET", "/networks")
    def list_networks(self, call: Call) -> Any:
        return self.listing(call, "networks", self.store.all("networks"))

    @operation("POST", "/networks")
    def create_network(self, call: Call) -> Any:
        body = call.body
        ip_range = _net(body.get("ip_range"), "ip_range")
        with self.store.lock:
            network = self.create_named(
                "networks",
                body,
                {
                    "ip_range": str(ip_range),
                    "subnets": [],
                    "routes": [],
                    "servers": [],
                    "load_balancers": [],
                    "protection": {"delete": False},
                    "expose_routes_to_vswitch": bool(body.get("expose_routes_to_vswitch")),
                },
            )
            for subnet in body.get("subnets") or []:
                self._add_subnet(network, subnet)
            network["routes"] = [dict(route) for route in body.get("routes") or []]
            self.store.save()
        return 201, {"network": public(network)}

    def _add_subnet(self, network: dict[str, Any], subnet: dict[str, Any]) -> None:
        whole = ipaddress.ip_network(network["ip_range"])
        wanted = _net(subnet.get("ip_range"), "ip_range")
        if not wanted.subnet_of(whole):  # type: ignore[arg-type]
            raise APIError.invalid_input("ip_range", f"subnet {wanted} is not inside the network's {whole}")
        if any(wanted.overlaps(ipaddress.ip_network(item["ip_range"])) for item in network["subnets"]):
            raise APIError.of("conflict", f"subnet {wanted} overlaps an existing subnet")
        network["subnets"].append(
            {
                "type": subnet.get("type", "cloud"),
                "ip_range": str(wanted),
                "network_zone": subnet.get("network_zone"),
                "gateway": str(next(whole.hosts())),
                "vswitch_id": subnet.get("vswitch_id"),
            }
        )

    @operation("GET", "/networks/{id}")
    def get_network(self, call: Call) -> Any:
        return 200, {"network": public(self.store.need("networks", call.id(), "Network"))}

    @operation("PUT", "/networks/{id}")
    def update_network(self, call: Call) -> Any:
        network = self.store.need("networks", call.id(), "Network")
        self.update_named("networks", network, call.body)
        return 200, {"network": public(network)}

    @operation("DELETE", "/networks/{id}")
    def delete_network(self, call: Call) -> Any:
        with self.store.lock:
            network = self.store.need("networks", call.id(), "Network")
            if network["protection"]["delete"]:
                raise APIError.of("protected", f"network {network['id']} is protected against deletion")
            # "Attached resources will be detached automatically." (cloud.spec.json, DELETE /networks/{id})
            for kind, ids in (("servers", network["servers"]), ("load_balancers", network["load_balancers"])):
                for ident in ids:
                    attached = self.store.get(kind, ident)
                    if attached is not None:
                        attached["private_net"] = [
                            item for item in attached["private_net"] if item["network"] != network["id"]
                        ]
            return self.delete_resource("networks", network)

    @operation("POST", "/networks/{id}/actions/add_subnet")
    def add_subnet(self, call: Call) -> Any:
        with self.store.lock:
            network = self.store.need("networks", call.id(), "Network")
            self._add_subnet(network, call.body)
            return self.simple_action("networks", "network", network, "add_subnet")

    @operation("POST", "/networks/{id}/actions/delete_subnet")
    def delete_subnet(self, call: Call) -> Any:
        with self.store.lock:
            network = self.store.need("networks", call.id(), "Network")
            wanted = str(_net(call.body.get("ip_range"), "ip_range"))
            if not any(item["ip_range"] == wanted for item in network["subnets"]):
                raise APIError.of("not_found", f"subnet {wanted} not found in network {network['id']}")
            network["subnets"] = [item for item in network["subnets"] if item["ip_range"] != wanted]
            return self.simple_action("networks", "network", network, "delete_subnet")

    @operation("POST", "/networks/{id}/actions/add_route")
    def add_route(self, call: Call) -> Any:
        with self.store.lock:
            network = self.store.need("networks", call.id(), "Network")
            network["routes"].append({"destination": call.body["destination"], "gateway": call.body["gateway"]})
            return self.simple_action("networks", "network", network, "add_route")

    @operation("POST", "/networks/{id}/actions/delete_route")
    def delete_route(self, call: Call) -> Any:
        with self.store.lock:
            network = self.store.need("networks", call.id(), "Network")
            route = {"destination": call.body.get("destination"), "gateway": call.body.get("gateway")}
            network["routes"] = [item for item in network["routes"] if item != route]
            return self.simple_action("networks", "network", network, "delete_route")

    @operation("POST", "/networks/{id}/actions/change_protection")
    def change_network_protection(self, call: Call) -> Any:
        network = self.store.need("networks", call.id(), "Network")
        if "delete" in call.body:
            network["protection"]["delete"] = call.body["delete"]
        return self.simple_action("networks", "network", network, "change_protection")

    # --- firewalls ------------------------------------------------------------------------------------------------
    @operation("GET", "/firewalls")
    def list_firewalls(self, call: Call) -> Any:
        return self.listing(call, "firewalls", self.store.all("firewalls"))

    @operation("POST", "/firewalls")
    def create_firewall(self, call: Call) -> Any:
        with self.store.lock:
            firewall = self.create_named(
                "firewalls", call.body, {"rules": _rules(call.body.get("rules")), "applied_to": []}
            )
            actions = [self.actions.create("set_firewall_rules", [("firewall", firewall["id"])], lock=False)]
            for item in call.body.get("apply_to") or []:
                firewall["applied_to"].append(self._applied(item))
                actions.append(self.actions.create("apply_firewall", [("firewall", firewall["id"])], lock=False))
            self.store.save()
        return 201, {"firewall": public(firewall), "actions": [self.actions.show(item) for item in actions]}

    def _applied(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("type") == "server":
            self.store.need("servers", (item.get("server") or {}).get("id"), "Server")
            return {"type": "server", "server": {"id": item["server"]["id"]}}
        selector = (item.get("label_selector") or {}).get("selector", "")
        return {"type": "label_selector", "label_selector": {"selector": selector}, "applied_to_resources": []}

    @operation("GET", "/firewalls/{id}")
    def get_firewall(self, call: Call) -> Any:
        return 200, {"firewall": public(self.store.need("firewalls", call.id(), "Firewall"))}

    @operation("PUT", "/firewalls/{id}")
    def update_firewall(self, call: Call) -> Any:
        firewall = self.store.need("firewalls", call.id(), "Firewall")
        self.update_named("firewalls", firewall, call.body)
        return 200, {"firewall": public(firewall)}

    @operation("DELETE", "/firewalls/{id}")
    def delete_firewall(self, call: Call) -> Any:
        firewall = self.store.need("firewalls", call.id(), "Firewall")
        if firewall["applied_to"]:
            raise APIError.of("resource_in_use", f"firewall {firewall['id']} is still applied to resources")
        return self.delete_resource("firewalls", firewall)

    @operation("POST", "/firewalls/{id}/actions/set_rules")
    def set_rules(self, call: Call) -> Any:
        with self.store.lock:
            firewall = self.store.need("firewalls", call.id(), "Firewall")
            firewall["rules"] = _rules(call.body.get("rules"))
            action = self.actions.create("set_firewall_rules", [("firewall", firewall["id"])], lock=False)
            self.store.save()
        return 201, {"actions": [self.actions.show(action)]}

    @operation("POST", "/firewalls/{id}/actions/apply_to_resources")
    def apply_to_resources(self, call: Call) -> Any:
        with self.store.lock:
            firewall = self.store.need("firewalls", call.id(), "Firewall")
            actions = []
            for item in call.body.get("apply_to") or []:
                applied = self._applied(item)
                if applied in firewall["applied_to"]:
                    raise APIError.of("firewall_already_applied", "firewall is already applied to this resource")
                firewall["applied_to"].append(applied)
                actions.append(self.actions.create("apply_firewall", [("firewall", firewall["id"])], lock=False))
            self.store.save()
        return 201, {"actions": [self.actions.show(item) for item in actions]}

    @operation("POST", "/firewalls/{id}/actions/remove_from_resources")
    def remove_from_resources(self, call: Call) -> Any:
        with self.store.lock:
            firewall = self.store.need("firewalls", call.id(), "Firewall")
            actions = []
            for item in call.body.get("remove_from") or []:
                applied = self._applied(item)
                match = [
                    entry
                    for entry in firewall["applied_to"]
                    if entry.get(applied["type"]) == applied.get(applied["type"])
                ]
                if not match:
                    raise APIError.of("firewall_resource_not_found", "firewall is not applied to this resource")
                firewall["applied_to"].remove(match[0])
                actions.append(self.actions.create("remove_firewall", [("firewall", firewall["id"])], lock=False))
            self.store.save()
        return 201, {"actions": [self.actions.show(item) for item in actions]}

    # --- placement groups -----------------------------------------------------------------------------------------
    @operation("GET", "/placement_groups")
    def list_placement_groups(self, call: Call) -> Any:
        items = self.store.all("placement_groups")
        if call.get("type"):
            items = [item for item in items if item["type"] in call.get("type")]
        return self.listing(call, "placement_groups", items)

    @operation("POST", "/placement_groups")
    def create_placement_group(self, call: Call) -> Any:
        with self.store.lock:
            group = self.create_named(
                "placement_groups", call.body, {"type": call.body.get("type", "spread"), "servers": []}
            )
            self.store.save()
        return 201, {"placement_group": public(group), "action": None}

    @operation("GET", "/placement_groups/{id}")
    def get_placement_group(self, call: Call) -> Any:
        return 200, {"placement_group": public(self.store.need("placement_groups", call.id(), "Placement Group"))}

    @operation("PUT", "/placement_groups/{id}")
    def update_placement_group(self, call: Call) -> Any:
        group = self.store.need("placement_groups", call.id(), "Placement Group")
        self.update_named("placement_groups", group, call.body)
        return 200, {"placement_group": public(group)}

    @operation("DELETE", "/placement_groups/{id}")
    def delete_placement_group(self, call: Call) -> Any:
        group = self.store.need("placement_groups", call.id(), "Placement Group")
        if group["servers"]:
            raise APIError.of("service_error", f"placement group {group['id']} still has servers")
        return self.delete_resource("placement_groups", group)


def _net(text: Any, field: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(text), strict=True)
    except ValueError:
        raise APIError.invalid_input(field, f"'{text}' is not a valid IP range") from None


def _rules(rules: Any) -> list[dict[str, Any]]:
    shown = []
    for rule in rules or []:
        if rule.get("protocol") in ("tcp", "udp") and not rule.get("port"):
            raise APIError.invalid_input("rules.port", "port is required for tcp and udp rules")
        shown.append(
            {
                "description": rule.get("description"),
                "direction": rule["direction"],
                "protocol": rule["protocol"],
                "port": rule.get("port"),
                "source_ips": list(rule.get("source_ips") or []),
                "destination_ips": list(rule.get("destination_ips") or []),
            }
        )
    return shown
