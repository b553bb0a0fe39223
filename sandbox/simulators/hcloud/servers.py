"""Servers: create (from an image, into networks, firewalls, a placement group, with volumes), read, update, delete."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .state import check_labels, now, public


class ServersMixin(HcloudCore):
    # --- presentation -------------------------------------------------------------------------------------------
    def show_server(self, server: dict[str, Any]) -> dict[str, Any]:
        shown = public(server)
        shown["server_type"] = catalog.server_type(server["_type"])
        shown["datacenter"] = catalog.datacenter_of(server["_location"])
        shown["location"] = catalog.location(server["_location"])
        image = self.image_by_id(server["_image"]) if server.get("_image") else None
        shown["image"] = self.show_image(image) if image else None
        group = self.store.get("placement_groups", server["_placement_group"] or 0)
        shown["placement_group"] = public(group) if group else None
        shown["iso"] = self.iso_by_id(server["_iso"]) if server.get("_iso") else None
        shown["volumes"] = [item["id"] for item in self.store.all("volumes") if item["server"] == server["id"]]
        shown["load_balancers"] = [
            lb["id"]
            for lb in self.store.all("load_balancers")
            if any(t.get("server", {}).get("id") == server["id"] for t in lb["targets"])
        ]
        shown["public_net"] = {
            **server["public_net"],
            "floating_ips": [ip["id"] for ip in self.store.all("floating_ips") if ip["server"] == server["id"]],
            "firewalls": [
                {"id": fw["id"], "status": "applied"}
                for fw in self.store.all("firewalls")
                if any(item.get("server", {}).get("id") == server["id"] for item in fw["applied_to"])
            ],
        }
        return shown

    # --- endpoints ----------------------------------------------------------------------------------------------
    @operation("GET", "/servers")
    def list_servers(self, call: Call) -> Any:
        items = self.store.all("servers")
        if call.get("status"):
            items = [item for item in items if item["status"] in call.get("status")]
        return self.listing(call, "servers", items, self.show_server)

    @operation("GET", "/servers/{id}")
    def get_server(self, call: Call) -> Any:
        return 200, {"server": self.show_server(self.store.need("servers", call.id(), "Server"))}

    @operation("PUT", "/servers/{id}")
    def update_server(self, call: Call) -> Any:
        server = self.store.need("servers", call.id(), "Server")
        self.update_named("servers", server, call.body)
        return 200, {"server": self.show_server(server)}

    @operation("DELETE", "/servers/{id}")
    def delete_server(self, call: Call) -> Any:
        with self.store.lock:
            server = self.store.need("servers", call.id(), "Server")
            if server["protection"]["delete"]:
                raise APIError.of("protected", f"server {server['id']} is protected against deletion")
            server["status"] = "deleting"
            action = self.actions.create("delete_server", [("server", server["id"])], lambda ok: self._gone(server))
            self.store.save()
        return 200, {"action": self.actions.show(action)}

    def _gone(self, server: dict[str, Any]) -> None:
        self.machines.destroy(server)
        for network in self.store.all("networks"):
            if server["id"] in network["servers"]:
                network["servers"].remove(server["id"])
        for firewall in self.store.all("firewalls"):
            firewall["applied_to"] = [
                item for item in firewall["applied_to"] if item.get("server", {}).get("id") != server["id"]
            ]
        for group in self.store.all("placement_groups"):
            if server["id"] in group["servers"]:
                group["servers"].remove(server["id"])
        for lb in self.store.all("load_balancers"):
            lb["targets"] = [t for t in lb["targets"] if t.get("server", {}).get("id") != server["id"]]
        for ip in self.store.all("floating_ips"):
            if ip["server"] == server["id"]:
                ip["server"] = None
        for volume in self.store.all("volumes"):  # detached, kept (a volume outlives its server)
            if volume["server"] == server["id"]:
                volume["server"] = None
        for primary in self.store.all("primary_ips"):
            if primary["assignee_id"] == server["id"]:
                if primary["auto_delete"]:
                    self.store.remove("primary_ips", primary["id"])
                else:
                    primary["assignee_id"] = None
        self.store.remove("servers", server["id"])

    @operation("POST", "/servers")
    def create_server(self, call: Call) -> Any:
        body = call.body
        with self.store.lock:
            problems = []
            if "name" not in body:
                problems.append(("name", "is required"))
            server_type = catalog.server_type(body.get("server_type", ""))
            if server_type is None:
                problems.append(("server_type", "server type not found"))
            if "image" not in body:
                problems.append(("image", "is required"))
            if problems:
                raise APIError.fields(problems)
            self.check_name("servers", body, required=True)
            if any(item["name"] == body["name"] for item in self.store.all("servers")):
                raise APIError.of("uniqueness_error", "server name is already used", {"fields": [{"name": "name"}]})
            location = self._placement(body, server_type)
            image = self.resolve_image(body["image"], server_type["architecture"])
            keys = [self.resolve_ssh_key(key) for key in body.get("ssh_keys") or []]
            check_labels(body.get("labels") or {})
            networks = [self.store.need("networks", ident, "Network") for ident in body.get("networks") or []]
            firewalls = [
                self.store.need("firewalls", item["firewall"], "Firewall") for item in body.get("firewalls") or []
            ]
            group = body.get("placement_group")
            if group is not None:
                self.store.need("placement_groups", group, "Placement Group")
            volumes = self.volumes_for_new_server(body.get("volumes") or [], location)
            server = self._new_server(body, server_type, location, image)
            for network in networks:
                self.join_network(server, network, None)
            for firewall in firewalls:
                firewall["applied_to"].append({"type": "server", "server": {"id": server["id"]}})
            if group is not None:
                self.store.get("placement_groups", group)["servers"].append(server["id"])
            server["_ssh_keys"] = [key["public_key"] for key in keys]
            self.machines.make_disk(server["id"], image)
            start = body.get("start_after_create", True)
            password = None if keys else secrets.token_urlsafe(18)
            shown = self.show_server(server)
            action = self.actions.create(
                "create_server", [("server", server["id"])], lambda ok: self._created(server, ok)
            )
            next_actions = [self.attach_on_create(volume, server) for volume in volumes]
            if start:
                next_actions.append(
                    self.actions.create(
                        "start_server", [("server", server["id"])], lambda ok: self._powered(server, ok), lock=False
                    )
                )
            self.store.save()
        return 201, {
            "server": shown,
            "action": self.actions.show(action),
            "next_actions": [self.actions.show(item) for item in next_actions],
            "root_password": password,
        }

    def _created(self, server: dict[str, Any], ok: bool) -> None:
        if server["status"] == "initializing":
            server["status"] = "off"

    def _powered(self, server: dict[str, Any], ok: bool) -> None:
        if ok and self.store.get("servers", server["id"]) is not None:
            server["status"] = "running"
            keys = server.get("_rescue_keys") or server.get("_ssh_keys") or []
            self.machines.boot(server, keys, catalog.server_type(server["_type"])["architecture"])

    def _placement(self, body: dict[str, Any], server_type: dict[str, Any]) -> str:
        if body.get("location") and body.get("datacenter"):
            raise APIError.invalid_input("location", "location and datacenter are mutually exclusive")
        if body.get("datacenter"):
            found = catalog.datacenter(body["datacenter"])
            if found is None:
                raise APIError.invalid_input("datacenter", "datacenter not found")
            name = found["location"]["name"]
        else:
            found = catalog.location(body.get("location") or "fsn1")
            if found is None:
                raise APIError.invalid_input("location", "location not found")
            name = found["name"]
        if not any(item["name"] == name for item in server_type["locations"]):
            raise APIError.of("resource_unavailable", f"server type {server_type['name']} is not available in {name}")
        return name

    def _new_server(
        self, body: dict[str, Any], server_type: dict[str, Any], location: str, image: dict[str, Any]
    ) -> dict[str, Any]:
        ident = self.store.new_id("servers")
        public_net = body.get("public_net") or {}
        wanted = [kind for kind in ("ipv4", "ipv6") if public_net.get(f"enable_{kind}", True)]
        for kind in wanted:  # every given primary IP checked before any is taken
            if public_net.get(kind) is not None:
                self.given_primary_ip(kind, location, public_net[kind])
        for kind in wanted:
            self.primary_ip(ident, kind, location, public_net.get(kind))
        server = {
            "id": ident,
            "name": body["name"],
            "status": "initializing",
            "created": now(),
            "public_net": {"ipv4": None, "ipv6": None, "floating_ips": []},
            "private_net": [],
            "iso": None,
            "rescue_enabled": False,
            "locked": False,
            "backup_window": None,
            "outgoing_traffic": 0,
            "ingoing_traffic": 0,
            "included_traffic": 21990232555520,
            "protection": {"delete": False, "rebuild": False},
            "labels": dict(body.get("labels") or {}),
            "volumes": [],
            "primary_disk_size": server_type["disk"],
            "_type": server_type["name"],
            "_location": location,
            "_image": image["id"],
            "_placement_group": body.get("placement_group"),
        }
        self.refresh_public_net(server)
        return self.store.add("servers", server)

    def join_network(
        self, server: dict[str, Any], network: dict[str, Any], ip: str | None, alias_ips: list[str] | None = None
    ) -> None:
        if any(item["network"] == network["id"] for item in server["private_net"]):
            raise APIError.of("conflict", f"server {server['id']} is already attached to network {network['id']}")
        subnets = [ipaddress.ip_network(item["ip_range"]) for item in network["subnets"]]
        if not subnets:
            raise APIError.of("service_error", f"network {network['id']} has no subnet to attach to")
        used = self.used_addresses(network)
        if ip is None:
            candidates = (host for subnet in subnets for host in subnet.hosts())
            ip = next((str(host) for host in candidates if str(host) not in used), None)
            if ip is None:
                raise APIError.of("service_error", f"no free IP left in network {network['id']}")
        elif ip in used or not any(ipaddress.ip_address(ip) in subnet for subnet in subnets):
            raise APIError.invalid_input("ip", f"IP {ip} is taken or outside the network's subnets")
        mac = hashlib.sha256(f"{server['id']}:{network['id']}".encode()).hexdigest()
        server["private_net"].append(
            {
                "network": network["id"],
                "ip": ip,
                "alias_ips": list(alias_ips or []),
                "mac_address": "86:00:00:" + ":".join(mac[i : i + 2] for i in (0, 2, 4)),
            }
        )
        network["servers"].append(server["id"])

    def used_addresses(self, network: dict[str, Any]) -> set[str]:
        used = {item["gateway"] for item in network["subnets"]}
        for server in self.store.all("servers"):
            for item in server["private_net"]:
                if item["network"] == network["id"]:
                    used.add(item["ip"])
                    used.update(item["alias_ips"])
        for lb in self.store.all("load_balancers"):
            used.update(item["ip"] for item in lb["private_net"] if item["network"] == network["id"])
        return used
