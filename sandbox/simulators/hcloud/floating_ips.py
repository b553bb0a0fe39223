"""Floating IPs: create (from the public address pool), assign, unassign, protect, PTR records, delete."""

from __future__ import annotations

from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .ptr import changed_records, default_records
from .state import public


class FloatingIpsMixin(HcloudCore):
    # --- floating IPs ---------------------------------------------------------------------------------------------
    @operation("GET", "/floating_ips")
    def list_floating_ips(self, call: Call) -> Any:
        return self.listing(call, "floating_ips", self.store.all("floating_ips"), self.show_floating_ip)

    def show_floating_ip(self, ip: dict[str, Any]) -> dict[str, Any]:
        return {**public(ip), "home_location": catalog.location(ip["_location"])}

    @operation("POST", "/floating_ips")
    def create_floating_ip(self, call: Call) -> Any:
        body = call.body
        server = self.store.need("servers", body["server"], "Server") if body.get("server") else None
        where = server["_location"] if server else body.get("home_location")
        if not where or catalog.location(where) is None:
            raise APIError.invalid_input("home_location", "home_location or server is required")
        with self.store.lock:
            name = body["name"] if "name" in body else f"floating-ip-{self.store.new_id('floating_ips')}"
            address = self.next_public_address(body["type"])
            ip = self.create_named(
                "floating_ips",
                {**body, "name": name},
                {
                    "description": body.get("description"),
                    "ip": str(address),
                    "type": body["type"],
                    "server": server["id"] if server else None,
                    "blocked": False,
                    "protection": {"delete": False},
                    "dns_ptr": default_records(str(address)),
                    "_location": catalog.location(where)["name"],  # type: ignore[index]
                },
            )
            action = (
                self.actions.create("assign_floating_ip", [("floating_ip", ip["id"])], lock=False) if server else None
            )
            self.store.save()
        return 201, {"floating_ip": self.show_floating_ip(ip), "action": self.actions.show(action) if action else None}

    @operation("GET", "/floating_ips/{id}")
    def get_floating_ip(self, call: Call) -> Any:
        return 200, {"floating_ip": self.show_floating_ip(self.store.need("floating_ips", call.id(), "Floating IP"))}

    @operation("PUT", "/floating_ips/{id}")
    def update_floating_ip(self, call: Call) -> Any:
        ip = self.store.need("floating_ips", call.id(), "Floating IP")
        self.update_named("floating_ips", ip, call.body)
        return 200, {"floating_ip": self.show_floating_ip(ip)}

    @operation("DELETE", "/floating_ips/{id}")
    def delete_floating_ip(self, call: Call) -> Any:
        return self.delete_resource("floating_ips", self.store.need("floating_ips", call.id(), "Floating IP"))

    @operation("POST", "/floating_ips/{id}/actions/assign")
    def assign_floating_ip(self, call: Call) -> Any:
        with self.store.lock:
            ip = self.store.need("floating_ips", call.id(), "Floating IP")
            ip["server"] = self.store.need("servers", call.body.get("server"), "Server")["id"]
            return self.simple_action("floating_ips", "floating_ip", ip, "assign_floating_ip")

    @operation("POST", "/floating_ips/{id}/actions/unassign")
    def unassign_floating_ip(self, call: Call) -> Any:
        with self.store.lock:
            ip = self.store.need("floating_ips", call.id(), "Floating IP")
            ip["server"] = None
            return self.simple_action("floating_ips", "floating_ip", ip, "unassign_floating_ip")

    @operation("POST", "/floating_ips/{id}/actions/change_protection")
    def change_floating_ip_protection(self, call: Call) -> Any:
        ip = self.store.need("floating_ips", call.id(), "Floating IP")
        if "delete" in call.body:
            ip["protection"]["delete"] = call.body["delete"]
        return self.simple_action("floating_ips", "floating_ip", ip, "change_protection")

    @operation("POST", "/floating_ips/{id}/actions/change_dns_ptr")
    def change_floating_ip_dns_ptr(self, call: Call) -> Any:
        """Takes effect when the action ends (see ptr.py for the records of an address)."""
        with self.store.lock:
            ip = self.store.need("floating_ips", call.id(), "Floating IP")
            records = changed_records(ip["ip"], ip["dns_ptr"], call.body["ip"], call.body.get("dns_ptr"))

            def done(ok: bool) -> None:
                if ok:
                    ip["dns_ptr"] = records

            action = self.actions.create("change_dns_ptr", [("floating_ip", ip["id"])], done)
            self.store.save()
        return 201, {"action": self.actions.show(action)}
