"""Server actions that change what a server is: its type (``change_type``), its ISO (``attach_iso``,
``detach_iso``) and the PTR records of its primary IPs (``change_dns_ptr``).

Each is checked when asked and takes effect when its action ends (after its latency), so a client that does not
wait for the action still reads the old state, as on the real API; a failed action (``/_sandbox/action-failures``)
changes nothing.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .ptr import changed_records


class ServerChangesMixin(HcloudCore):
    @operation("POST", "/servers/{id}/actions/change_type")
    def change_server_type(self, call: Call) -> Any:
        """The spec: the server must be off; only types with the same storage type and a disk at least as big as
        the server's; with ``upgrade_disk`` the disk grows to the new type's (no way back to a smaller type); the
        disk's content is copied and the server started again."""
        with self.store.lock:
            server = self.store.need("servers", call.id(), "Server")
            wanted = catalog.server_type(call.body["server_type"])
            if wanted is None:
                raise APIError.invalid_input("server_type", f"server type {call.body['server_type']} not found")
            current = catalog.server_type(server["_type"])
            problem = _misfit(server, current, wanted)  # type: ignore[arg-type]
            if problem:
                raise APIError.of("invalid_server_type", problem)
            if server["status"] != "off":
                raise APIError.of("server_not_stopped", "the server must be powered off to change its type")
            upgrade = call.body["upgrade_disk"]

            def done(target: dict[str, Any], ok: bool) -> None:
                if not ok or self.store.get("servers", target["id"]) is None:
                    return
                target["_type"] = wanted["name"]
                if upgrade:
                    target["primary_disk_size"] = wanted["disk"]
                self._powered(target, ok)

            return self._server_action(call, "change_server_type", None, done)

    @operation("POST", "/servers/{id}/actions/attach_iso")
    def attach_iso(self, call: Call) -> Any:
        """An ISO already attached is replaced (the spec detaches it first)."""
        server = self.store.need("servers", call.id(), "Server")
        architecture = catalog.server_type(server["_type"])["architecture"]  # type: ignore[index]
        iso = self.resolve_iso(call.body["iso"], architecture)

        def done(target: dict[str, Any], ok: bool) -> None:
            if ok:
                target["_iso"] = iso["id"]

        return self._server_action(call, "attach_iso", None, done)

    @operation("POST", "/servers/{id}/actions/detach_iso")
    def detach_iso(self, call: Call) -> Any:
        server = self.store.need("servers", call.id(), "Server")
        if not server.get("_iso"):
            raise APIError.of("service_error", f"server {server['id']} has no ISO attached")

        def done(target: dict[str, Any], ok: bool) -> None:
            if ok:
                target["_iso"] = None

        return self._server_action(call, "detach_iso", None, done)

    @operation("POST", "/servers/{id}/actions/change_dns_ptr")
    def change_server_dns_ptr(self, call: Call) -> Any:
        """The record of an address of the server's primary IPv4 or IPv6 (floating IPs have their own action)."""
        with self.store.lock:
            server = self.store.need("servers", call.id(), "Server")
            ip, ptr = call.body["ip"], call.body.get("dns_ptr")
            owned = [
                item
                for item in self.store.all("primary_ips")
                if item["assignee_id"] == server["id"] and _holds(item["ip"], ip)
            ]
            if not owned:
                raise APIError.invalid_input("ip", f"{ip} is not an address of server {server['id']}")
            primary = owned[0]
            records = changed_records(primary["ip"], primary["dns_ptr"], ip, ptr)

            def done(target: dict[str, Any], ok: bool) -> None:
                if ok and self.store.get("primary_ips", primary["id"]) is not None:
                    primary["dns_ptr"] = records
                    self.refresh_public_net(target)

            return self._server_action(call, "change_dns_ptr", None, done)


def _holds(address: str, ip: str) -> bool:
    """True when ``ip`` is ``address`` or inside it (an IPv6 /64); False for anything that is no address."""
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(address, strict=False)
    except (TypeError, ValueError):
        return False


def _misfit(server: dict[str, Any], current: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """Why ``wanted`` does not fit the server (invalid_server_type), or None."""
    if wanted["architecture"] != current["architecture"]:
        return f"server type {wanted['name']} is {wanted['architecture']}, the server {current['architecture']}"
    if wanted["storage_type"] != current["storage_type"]:
        return f"server type {wanted['name']} has {wanted['storage_type']} storage, not {current['storage_type']}"
    if wanted["disk"] < server["primary_disk_size"]:
        return f"server type {wanted['name']} has a {wanted['disk']} GB disk, smaller than the server's"
    if not any(item["name"] == server["_location"] for item in wanted["locations"]):
        return f"server type {wanted['name']} is not available in {server['_location']}"
    if wanted["deprecated"]:
        return f"server type {wanted['name']} is deprecated"
    return None
