"""Load balancers: create, read, update, delete, targets, services, networks, protection, algorithm, type, public
interface, PTR records."""

from __future__ import annotations

import ipaddress
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .ptr import address_of, check_domain
from .state import parse_selector, public, reverse_dns, selector_matches

_DEFAULT_HEALTH = {"interval": 15, "timeout": 10, "retries": 3}
# the defaults cloud.spec.json gives the fields its responses require (LoadBalancerServiceHTTPConfig and the
# health check's http object)
_DEFAULT_HTTP = {
    "cookie_name": "HCLBSTICKY",
    "cookie_lifetime": 300,
    "timeout_idle": 50,
    "certificates": [],
    "redirect_http": False,
    "sticky_sessions": False,
}
_DEFAULT_HEALTH_HTTP = {"domain": None, "path": "/", "response": "", "status_codes": ["2??", "3??"], "tls": False}


class LoadBalancersMixin(HcloudCore):
    def show_load_balancer(self, lb: dict[str, Any]) -> dict[str, Any]:
        shown = public(lb)
        shown["location"] = catalog.location(lb["_location"])
        shown["load_balancer_type"] = catalog.load_balancer_type(lb["_type"])
        shown["targets"] = [self._show_target(lb, target) for target in lb["targets"]]
        return shown

    def _show_target(self, lb: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
        health = [{"listen_port": service["listen_port"], "status": "healthy"} for service in lb["services"]]
        if target["type"] == "server":
            server = self.store.get("servers", target["server"]["id"]) or {}
            ipv4 = ((server.get("public_net") or {}).get("ipv4") or {}).get("ip", "")
            return {**target, "server": {"id": target["server"]["id"], "ip": ipv4}, "health_status": health}
        if target["type"] == "label_selector":
            requirements = parse_selector(target["label_selector"]["selector"])
            matched = [s for s in self.store.all("servers") if selector_matches(s["labels"], requirements)]
            resolved = [
                {
                    "type": "server",
                    "server": {"id": s["id"], "ip": ((s["public_net"].get("ipv4") or {}).get("ip") or "")},
                    "health_status": health,
                    "use_private_ip": target["use_private_ip"],
                }
                for s in matched
            ]
            return {**target, "targets": resolved}
        return {**target, "health_status": health}

    def _target(self, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type")
        if kind == "server":
            self.store.need("servers", (body.get("server") or {}).get("id"), "Server")
            return {
                "type": "server",
                "server": {"id": body["server"]["id"]},
                "use_private_ip": bool(body.get("use_private_ip", False)),
            }
        if kind == "label_selector":
            parse_selector((body.get("label_selector") or {}).get("selector", ""))
            return {
                "type": "label_selector",
                "label_selector": {"selector": body["label_selector"]["selector"]},
                "use_private_ip": bool(body.get("use_private_ip", False)),
            }
        return {"type": "ip", "ip": {"ip": (body.get("ip") or {}).get("ip", "")}}

    def _service(self, body: dict[str, Any]) -> dict[str, Any]:
        """A service as the API keeps it: every field the spec's response requires, defaults where not given."""
        protocol = body.get("protocol", "tcp")
        destination = body.get("destination_port") or body.get("listen_port") or 80
        check = {"protocol": "tcp", "port": destination, **_DEFAULT_HEALTH, **(body.get("health_check") or {})}
        if check["protocol"] == "http":
            check["http"] = {**_DEFAULT_HEALTH_HTTP, **(check.get("http") or {})}
        else:
            check.pop("http", None)
        service = {
            "protocol": protocol,
            "listen_port": body.get("listen_port") or {"http": 80, "https": 443}.get(protocol, destination),
            "destination_port": destination,
            "proxyprotocol": bool(body.get("proxyprotocol", False)),
            "health_check": check,
        }
        if protocol in ("http", "https"):
            service["http"] = {**_DEFAULT_HTTP, **(body.get("http") or {})}
        return service

    @operation("GET", "/load_balancers")
    def list_load_balancers(self, call: Call) -> Any:
        return self.listing(call, "load_balancers", self.store.all("load_balancers"), self.show_load_balancer)

    @operation("POST", "/load_balancers")
    def create_load_balancer(self, call: Call) -> Any:
        body = call.body
        lb_type = catalog.load_balancer_type(body.get("load_balancer_type", ""))
        if lb_type is None:
            raise APIError.invalid_input("load_balancer_type", "load balancer type not found")
        location = catalog.location(body.get("location") or "") if body.get("location") else None
        if location is None and body.get("network_zone"):
            location = next(
                (item for item in catalog.locations() if item["network_zone"] == body["network_zone"]), None
            )
        if location is None:
            raise APIError.invalid_input("location", "location or network_zone is required")
        with self.store.lock:
            public_ip = {"ip": self.next_public_address("ipv4")}
            enabled = body.get("public_interface", True)
            lb = self.create_named(
                "load_balancers",
                body,
                {
                    "public_net": {
                        "enabled": enabled,
                        "ipv4": {
                            "ip": public_ip["ip"] if enabled else None,
                            "dns_ptr": reverse_dns(public_ip["ip"]) if enabled else None,
                        },
                        "ipv6": {"ip": None, "dns_ptr": None},
                    },
                    "private_net": [],
                    "protection": {"delete": False},
                    "services": [self._service(item) for item in body.get("services") or []],
                    "targets": [self._target(item) for item in body.get("targets") or []],
                    "algorithm": {"type": (body.get("algorithm") or {}).get("type", "round_robin")},
                    "outgoing_traffic": 0,
                    "ingoing_traffic": 0,
                    "included_traffic": 21990232555520,
                    "_location": location["name"],
                    "_type": lb_type["name"],
                },
            )
            if body.get("network"):
                self._lb_join(lb, self.store.need("networks", body["network"], "Network"), None)
            action = self.actions.create("create_load_balancer", [("load_balancer", lb["id"])], lock=False)
            self.store.save()
        return 201, {"load_balancer": self.show_load_balancer(lb), "action": self.actions.show(action)}

    def _lb_join(self, lb: dict[str, Any], network: dict[str, Any], ip: str | None) -> None:
        if any(item["network"] == network["id"] for item in lb["private_net"]):
            raise APIError.of("conflict", f"load balancer {lb['id']} is already attached to network {network['id']}")
        used = self.used_addresses(network)
        if ip is None:
            hosts = (str(h) for item in network["subnets"] for h in ipaddress.ip_network(item["ip_range"]).hosts())
            ip = next((h for h in hosts if h not in used), None)
            if ip is None:
                raise APIError.of("service_error", f"no free IP left in network {network['id']}")
        lb["private_net"].append({"network": network["id"], "ip": ip})
        network["load_balancers"].append(lb["id"])

    def _lb(self, call: Call) -> dict[str, Any]:
        return self.store.need("load_balancers", call.id(), "Load Balancer")

    def _lb_action(self, lb: dict[str, Any], command: str) -> Any:
        action = self.actions.create(command, [("load_balancer", lb["id"])], lock=False)
        self.store.save()
        return 201, {"action": self.actions.show(action)}

    @operation("GET", "/load_balancers/{id}")
    def get_load_balancer(self, call: Call) -> Any:
        return 200, {"load_balancer": self.show_load_balancer(self._lb(call))}

    @operation("PUT", "/load_balancers/{id}")
    def update_load_balancer(self, call: Call) -> Any:
        lb = self._lb(call)
        self.update_named("load_balancers", lb, call.body)
        return 200, {"load_balancer": self.show_load_balancer(lb)}

    @operation("DELETE", "/load_balancers/{id}")
    def delete_load_balancer(self, call: Call) -> Any:
        lb = self._lb(call)
        if lb["protection"]["delete"]:
            raise APIError.of("protected", f"load balancer {lb['id']} is protected against deletion")
        with self.store.lock:
            for network in self.store.all("networks"):
                if lb["id"] in network["load_balancers"]:
                    network["load_balancers"].remove(lb["id"])
            action = self.actions.create("delete_load_balancer", [("load_balancer", lb["id"])], lock=False)
            self.store.remove("load_balancers", lb["id"])
            self.store.save()
        return 200, {"action": self.actions.show(action)}  # what hcloud 2.27.0 reads; the spec says 204

    @operation("POST", "/load_balancers/{id}/actions/add_target")
    def add_target(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            target = self._target(call.body)
            if any(item == target for item in lb["targets"]):
                raise APIError.of("target_already_defined", "the target is already defined for this load balancer")
            lb["targets"].append(target)
            return self._lb_action(lb, "add_target")

    @operation("POST", "/load_balancers/{id}/actions/remove_target")
    def remove_target(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            target = self._target(call.body)
            kept = [item for item in lb["targets"] if item.get(target["type"]) != target.get(target["type"])]
            if len(kept) == len(lb["targets"]):
                raise APIError.of("not_found", "the target is not defined for this load balancer")
            lb["targets"] = kept
            return self._lb_action(lb, "remove_target")

    @operation("POST", "/load_balancers/{id}/actions/add_service")
    def add_service(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            service = self._service(call.body)
            if any(item["listen_port"] == service["listen_port"] for item in lb["services"]):
                raise APIError.of("source_port_already_used", f"listen port {service['listen_port']} is already used")
            lb["services"].append(service)
            return self._lb_action(lb, "add_service")

    @operation("POST", "/load_balancers/{id}/actions/update_service")
    def update_service(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            found = next((item for item in lb["services"] if item["listen_port"] == call.body.get("listen_port")), None)
            if found is None:
                raise APIError.of("not_found", f"no service listens on port {call.body.get('listen_port')}")
            merged = {**found, **call.body}
            for part in ("http", "health_check"):  # a partial object updates the fields it names
                if part in call.body and part in found:
                    merged[part] = {**found[part], **call.body[part]}
            found.update(self._service(merged))
            return self._lb_action(lb, "update_service")

    @operation("POST", "/load_balancers/{id}/actions/delete_service")
    def delete_service(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            kept = [item for item in lb["services"] if item["listen_port"] != call.body.get("listen_port")]
            if len(kept) == len(lb["services"]):
                raise APIError.of("not_found", f"no service listens on port {call.body.get('listen_port')}")
            lb["services"] = kept
            return self._lb_action(lb, "delete_service")

    @operation("POST", "/load_balancers/{id}/actions/attach_to_network")
    def lb_attach_to_network(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            self._lb_join(lb, self.store.need("networks", call.body.get("network"), "Network"), call.body.get("ip"))
            return self._lb_action(lb, "attach_to_network")

    @operation("POST", "/load_balancers/{id}/actions/detach_from_network")
    def lb_detach_from_network(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            network = self.store.need("networks", call.body.get("network"), "Network")
            lb["private_net"] = [item for item in lb["private_net"] if item["network"] != network["id"]]
            if lb["id"] in network["load_balancers"]:
                network["load_balancers"].remove(lb["id"])
            return self._lb_action(lb, "detach_from_network")

    @operation("POST", "/load_balancers/{id}/actions/change_protection")
    def change_lb_protection(self, call: Call) -> Any:
        lb = self._lb(call)
        if "delete" in call.body:
            lb["protection"]["delete"] = call.body["delete"]
        return self._lb_action(lb, "change_protection")

    @operation("POST", "/load_balancers/{id}/actions/change_algorithm")
    def change_algorithm(self, call: Call) -> Any:
        lb = self._lb(call)
        lb["algorithm"] = {"type": call.body.get("type", "round_robin")}
        return self._lb_action(lb, "change_algorithm")

    # --- type, public interface, PTR records: checked when asked, in effect when their action ends -------------
    def _lb_change(self, lb: dict[str, Any], command: str, done: Any) -> Any:
        action = self.actions.create(command, [("load_balancer", lb["id"])], lambda ok: ok and done())
        self.store.save()
        return 201, {"action": self.actions.show(action)}

    @operation("POST", "/load_balancers/{id}/actions/change_type")
    def change_lb_type(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            wanted = catalog.load_balancer_type(call.body["load_balancer_type"])
            if wanted is None:
                message = f"load balancer type {call.body['load_balancer_type']} not found"
                raise APIError.invalid_input("load_balancer_type", message)
            if len(lb["targets"]) > wanted["max_targets"] or len(lb["services"]) > wanted["max_services"]:
                limits = f"{wanted['max_targets']} targets and {wanted['max_services']} services"
                message = f"{wanted['name']} takes at most {limits}"
                raise APIError.of("invalid_load_balancer_type", message)
            return self._lb_change(lb, "change_load_balancer_type", lambda: lb.update(_type=wanted["name"]))

    @operation("POST", "/load_balancers/{id}/actions/enable_public_interface")
    def enable_public_interface(self, call: Call) -> Any:
        with self.store.lock:
            lb = self._lb(call)
            ipv4 = lb["public_net"]["ipv4"]
            address = ipv4["ip"] or self.next_public_address("ipv4")  # one made without a public interface

            def done() -> None:
                if ipv4["ip"] is None:
                    ipv4.update(ip=address, dns_ptr=reverse_dns(address))
                lb["public_net"]["enabled"] = True

            return self._lb_change(lb, "enable_public_interface", done)

    @operation("POST", "/load_balancers/{id}/actions/disable_public_interface")
    def disable_public_interface(self, call: Call) -> Any:
        """The spec: only a load balancer in a network, whose targets all use their private IPs."""
        with self.store.lock:
            lb = self._lb(call)
            if not lb["private_net"]:
                message = f"load balancer {lb['id']} is not attached to a network"
                raise APIError.of("load_balancer_not_attached_to_network", message)
            if any(item["type"] != "ip" and not item.get("use_private_ip") for item in lb["targets"]):
                message = f"load balancer {lb['id']} has targets that use their public IP"
                raise APIError.of("targets_without_use_private_ip", message)
            return self._lb_change(lb, "disable_public_interface", lambda: lb["public_net"].update(enabled=False))

    @operation("POST", "/load_balancers/{id}/actions/change_dns_ptr")
    def change_lb_dns_ptr(self, call: Call) -> Any:
        """The record of the public IPv4 or IPv6; null resets the IPv4's to its default, removes the IPv6's."""
        with self.store.lock:
            lb = self._lb(call)
            wanted, ptr = address_of(call.body["ip"]), call.body.get("dns_ptr")
            kind = next(
                (
                    kind
                    for kind in ("ipv4", "ipv6")
                    if lb["public_net"][kind]["ip"] and address_of(lb["public_net"][kind]["ip"]) == wanted
                ),
                None,
            )
            if kind is None:
                raise APIError.invalid_input("ip", f"{call.body['ip']} is not an address of load balancer {lb['id']}")
            if ptr is not None:
                check_domain(ptr)
            entry = lb["public_net"][kind]
            value = ptr if ptr is not None else (reverse_dns(entry["ip"]) if kind == "ipv4" else None)
            return self._lb_change(lb, "change_dns_ptr", lambda: entry.update(dns_ptr=value))
