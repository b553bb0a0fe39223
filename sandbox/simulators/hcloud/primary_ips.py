"""Primary IPs (those of servers, list, get, delete) and the pool of public addresses every public IP comes from;
create, update and the actions are in primary_ip_actions.py."""

from __future__ import annotations

import ipaddress
import random
import socket
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .ptr import default_records
from .state import now, public, reverse_dns


class PrimaryIpsMixin(HcloudCore):
    def primary_ip(self, server_id: int, kind: str, location: str, given: int | None = None) -> dict[str, Any]:
        """The server's primary IP of ``kind``: the one given (free, same kind and location) or a new one."""
        with self.store.lock:
            if given is not None:
                found = self.given_primary_ip(kind, location, given)
                found.update(assignee_id=server_id, assignee_type="server")
                return found
            return self.new_primary_ip(f"primary_ip-{server_id}-{kind}", kind, location, server_id, True, {})

    def given_primary_ip(self, kind: str, location: str, given: int) -> dict[str, Any]:
        """A primary IP named in a server create's ``public_net``, checked before anything is made."""
        found = self.store.need("primary_ips", given, "Primary IP")
        if found["type"] != kind:
            raise APIError.invalid_input(f"public_net.{kind}", f"primary IP {given} is {found['type']}, not {kind}")
        if found["location"]["name"] != location:
            message = f"primary IP {given} is in {found['location']['name']}, the server in {location}"
            raise APIError.invalid_input(f"public_net.{kind}", message)
        if found["assignee_id"] is not None:
            raise APIError.of("primary_ip_assigned", f"primary IP {given} is already assigned")
        return found

    def new_primary_ip(
        self,
        name: str,
        kind: str,
        location: str,
        server_id: int | None,
        auto_delete: bool,
        labels: dict[str, str],
    ) -> dict[str, Any]:
        ip = self.next_public_address(kind)
        record = {
            "id": self.store.new_id("primary_ips"),
            "name": name,
            "labels": dict(labels),
            "created": now(),
            "blocked": False,
            "location": catalog.location(location),
            "ip": ip,
            "dns_ptr": default_records(ip),
            "protection": {"delete": False},
            "type": kind,
            "auto_delete": auto_delete,
            "assignee_type": "server",
            "assignee_id": server_id,
        }
        return self.store.add("primary_ips", record)

    def refresh_public_net(self, server: dict[str, Any]) -> None:
        """The server's ``public_net.ipv4``/``ipv6`` from the primary IPs assigned to it (and their PTR records)."""
        with self.store.lock:
            for kind in ("ipv4", "ipv6"):
                found = next(
                    (
                        item
                        for item in self.store.all("primary_ips")
                        if item["assignee_id"] == server["id"] and item["type"] == kind
                    ),
                    None,
                )
                if found is None:
                    server["public_net"][kind] = None
                    continue
                entry = {"id": found["id"], "ip": found["ip"], "blocked": found["blocked"]}
                if kind == "ipv4":
                    entry["dns_ptr"] = next(iter(found["dns_ptr"]), {}).get("dns_ptr") or reverse_dns(found["ip"])
                else:
                    entry["dns_ptr"] = [dict(item) for item in found["dns_ptr"]]
                server["public_net"][kind] = entry

    def next_public_address(self, kind: str) -> str:
        """The next free public IPv4 (or IPv6 /64) of the pool, from a random start per state folder.

        The random start keeps parallel sandboxes (pytest-xdist, several checkouts) from handing out the same
        loopback address; an IPv4 where something already listens on the rescue port is skipped too.
        """
        with self.store.lock:
            taken = {item["ip"] for item in self.store.all("primary_ips") + self.store.all("floating_ips")}
            taken |= {(lb["public_net"]["ipv4"] or {}).get("ip") for lb in self.store.all("load_balancers")}
            pool = ipaddress.ip_network(self.ipv4_pool if kind == "ipv4" else self.ipv6_pool)
            # IPv4: every address of the pool; IPv6: its /64s (at most 2**32 of them are considered)
            size = pool.num_addresses if kind == "ipv4" else 1 << min(32, max(0, 64 - pool.prefixlen))
            cursor_key = f"_{kind}_cursor"
            cursor = self.store.next_ids.get(cursor_key, random.randrange(size))
            for _attempt in range(min(size, 4096)):  # bounded search
                cursor = (cursor + 1) % size
                if kind == "ipv4":
                    candidate = str(pool[cursor])
                    if candidate.endswith((".0", ".1", ".255")) or candidate in taken:
                        continue
                    if _in_use(candidate, self.machines.ssh_port):
                        continue
                else:
                    candidate = str(ipaddress.ip_network((int(pool.network_address) + (cursor << 64), 64)))
                    if candidate in taken:
                        continue
                self.store.next_ids[cursor_key] = cursor
                return candidate
        raise APIError.of("resource_unavailable", f"no free public {kind} address left in {pool}")

    @operation("GET", "/primary_ips")
    def list_primary_ips(self, call: Call) -> Any:
        items = self.store.all("primary_ips")
        if call.get("ip"):
            items = [item for item in items if item["ip"] == call.get("ip")]
        return self.listing(call, "primary_ips", items)

    @operation("GET", "/primary_ips/{id}")
    def get_primary_ip(self, call: Call) -> Any:
        return 200, {"primary_ip": public(self.store.need("primary_ips", call.id(), "Primary IP"))}

    @operation("DELETE", "/primary_ips/{id}")
    def delete_primary_ip(self, call: Call) -> Any:
        primary = self.store.need("primary_ips", call.id(), "Primary IP")
        if primary["protection"]["delete"]:
            raise APIError.of("protected", f"primary IP {primary['id']} is protected against deletion")
        if primary["assignee_id"] is not None:  # as the spec has it from 1 May 2026 on
            message = f"primary IP {primary['id']} is assigned to server {primary['assignee_id']}: unassign it first"
            raise APIError.of("must_be_unassigned", message)
        self.store.remove("primary_ips", primary["id"])
        self.store.save()
        return 204, None


def _in_use(address: str, port: int) -> bool:
    """Something (another sandbox's rescue system) already listens there."""
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except OSError:
        return False
