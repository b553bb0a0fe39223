"""Primary IPs made on their own: create (in a location, or for a stopped server), update, and the actions
``assign``, ``unassign``, ``change_protection`` and ``change_dns_ptr`` (cloud.spec.json, tag primary-ips).

A server holds at most one primary IP of each kind, and only a stopped server takes or gives one up. Assign,
unassign and PTR changes take effect when their action ends; a server's ``public_net`` follows its primary IPs.
"""

from __future__ import annotations

from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .ptr import changed_records
from .state import check_labels, parse_selector, public, selector_matches


class PrimaryIpActionsMixin(HcloudCore):
    def _pip(self, call: Call) -> dict[str, Any]:
        return self.store.need("primary_ips", call.id(), "Primary IP")

    def _pip_action(self, pip: dict[str, Any], command: str, server: dict[str, Any] | None, done: Any = None) -> Any:
        """An action on the primary IP (and its server), refused (locked) while another one runs on either."""
        if server is not None and self.actions.running_on("server", server["id"]):
            raise APIError.of("locked", f"server {server['id']} is locked: an action is already running on it")
        resources = [("primary_ip", pip["id"])] + ([("server", server["id"])] if server is not None else [])
        action = self.actions.create(command, resources, done)
        self.store.save()
        return 201, {"action": self.actions.show(action)}

    def _takes_primary_ip(self, server: dict[str, Any], kind: str, field: str, location: str) -> None:
        """A server may take a primary IP of ``kind`` from ``location``: stopped, none of that kind yet."""
        if server["_location"] != location:
            raise APIError.invalid_input(field, f"server {server['id']} is in {server['_location']}, not {location}")
        if server["status"] != "off":
            raise APIError.of("server_not_stopped", f"server {server['id']} must be powered off")
        if any(item["assignee_id"] == server["id"] and item["type"] == kind for item in self.store.all("primary_ips")):
            if kind == "ipv4":
                raise APIError.of("server_has_ipv4", f"server {server['id']} already has a primary IPv4")
            raise APIError.of("server_has_ipv6", f"server {server['id']} already has a primary IPv6")

    @operation("POST", "/primary_ips")
    def create_primary_ip(self, call: Call) -> Any:
        body = call.body
        with self.store.lock:
            self.check_name("primary_ips", body, required=True)
            if any(item["name"] == body["name"] for item in self.store.all("primary_ips")):
                raise APIError.of("uniqueness_error", "name is already used", {"fields": [{"name": "name"}]})
            check_labels(body.get("labels") or {})
            server = None
            if "assignee_id" in body:
                if "assignee_type" not in body:
                    raise APIError.invalid_input("assignee_type", "is required with assignee_id")
                server = self.store.need("servers", body["assignee_id"], "Server")
            where = catalog.location(str(body["location"])) if "location" in body else None
            if "location" in body and where is None:
                raise APIError.invalid_input("location", f"location {body['location']} not found")
            if server is None and where is None:
                raise APIError.invalid_input("location", "location is required without assignee_id")
            location = where["name"] if where is not None else server["_location"]  # type: ignore[index]
            auto_delete = body.get("auto_delete", False)
            if server is not None:
                self._takes_primary_ip(server, body["type"], "location", location)
            pip = self.new_primary_ip(body["name"], body["type"], location, None, auto_delete, body.get("labels") or {})
            action = None
            if server is not None:
                pip.update(assignee_id=server["id"])
                self.refresh_public_net(server)
                action = self.actions.create("create_primary_ip", [("primary_ip", pip["id"]), ("server", server["id"])])
            self.store.save()
        return 201, {"primary_ip": public(pip), "action": self.actions.show(action) if action else None}

    @operation("PUT", "/primary_ips/{id}")
    def update_primary_ip(self, call: Call) -> Any:
        pip = self._pip(call)
        if call.body.get("auto_delete") and pip["protection"]["delete"]:
            raise APIError.invalid_input("auto_delete", "a primary IP protected against deletion cannot auto-delete")
        self.update_named("primary_ips", pip, call.body)
        return 200, {"primary_ip": public(pip)}

    @operation("POST", "/primary_ips/{id}/actions/assign")
    def assign_primary_ip(self, call: Call) -> Any:
        with self.store.lock:
            pip = self._pip(call)
            server = self.store.need("servers", call.body["assignee_id"], "Server")
            if pip["assignee_id"] is not None:
                message = f"primary IP {pip['id']} is already assigned to server {pip['assignee_id']}"
                raise APIError.of("primary_ip_already_assigned", message)
            self._takes_primary_ip(server, pip["type"], "assignee_id", pip["location"]["name"])

            def done(ok: bool) -> None:
                if ok and self.store.get("servers", server["id"]) is not None:
                    pip["assignee_id"] = server["id"]
                    self.refresh_public_net(server)

            return self._pip_action(pip, "assign_primary_ip", server, done)

    @operation("POST", "/primary_ips/{id}/actions/unassign")
    def unassign_primary_ip(self, call: Call) -> Any:
        with self.store.lock:
            pip = self._pip(call)
            server = self.store.get("servers", pip["assignee_id"] or 0)
            if server is None:
                raise APIError.of("service_error", f"primary IP {pip['id']} is not assigned")
            if server["status"] != "off":
                raise APIError.of("server_not_stopped", f"server {server['id']} must be powered off")
            if pip["type"] == "ipv4" and self._public_target(server):
                message = f"server {server['id']} is the target of a load balancer by its public IPv4"
                raise APIError.of("server_is_load_balancer_target", message)

            def done(ok: bool) -> None:
                if ok and pip["assignee_id"] == server["id"]:
                    pip["assignee_id"] = None
                    self.refresh_public_net(server)

            return self._pip_action(pip, "unassign_primary_ip", server, done)

    def _public_target(self, server: dict[str, Any]) -> bool:
        """True when a load balancer reaches the server by its public address: a server target, or a label
        selector matching it, without ``use_private_ip``."""
        for lb in self.store.all("load_balancers"):
            for target in lb["targets"]:
                if target.get("use_private_ip"):
                    continue
                if target["type"] == "server" and target["server"]["id"] == server["id"]:
                    return True
                if target["type"] == "label_selector":
                    requirements = parse_selector(target["label_selector"]["selector"])
                    if selector_matches(server["labels"], requirements):
                        return True
        return False

    @operation("POST", "/primary_ips/{id}/actions/change_protection")
    def change_primary_ip_protection(self, call: Call) -> Any:
        """The spec: delete protection only for a primary IP that does not auto-delete."""
        with self.store.lock:
            pip = self._pip(call)
            if call.body["delete"] and pip["auto_delete"]:
                raise APIError.invalid_input("delete", "only a primary IP with auto_delete false can be protected")
            pip["protection"]["delete"] = call.body["delete"]
            return self._pip_action(pip, "change_protection", None)

    @operation("POST", "/primary_ips/{id}/actions/change_dns_ptr")
    def change_primary_ip_dns_ptr(self, call: Call) -> Any:
        with self.store.lock:
            pip = self._pip(call)
            records = changed_records(pip["ip"], pip["dns_ptr"], call.body["ip"], call.body.get("dns_ptr"))

            def done(ok: bool) -> None:
                if ok:
                    pip["dns_ptr"] = records
                    server = self.store.get("servers", pip["assignee_id"] or 0)
                    if server is not None:
                        self.refresh_public_net(server)

            return self._pip_action(pip, "change_dns_ptr", None, done)
