"""Primary IPs (read and delete; servers create them) and the pool of public addresses every public IP comes from."""

from __future__ import annotations

import ipaddress
import random
import socket
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .state import now, public, reverse_dns


class PrimaryIpsMixin(HcloudCore):
    def primary_ip(self, server_id: int, kind: str, location: str, given: int | None = None) -> dict[str, Any]:
        with self.store.lock:
            if given is not None:
                found = self.store.need("primary_ips", given, "Primary IP")
                if found["assignee_id"] is not None:
                    raise APIError.of("primary_ip_assigned", f"primary IP {given} is already assigned")
                found.update(assignee_id=server_id, assignee_type="server")
                return found
            ip = self.next_public_address(kind)
            record = {
                "id": self.store.new_id("primary_ips"),
                "name": f"primary_ip-{server_id}-{kind}",
                "labels": {},
                "created": now(),
                "blocked": False,
                "location": catalog.location(location),
                "ip": ip,
                "dns_ptr": [{"ip": ip.split("/", maxsplit=1)[0], "dns_ptr": reverse_dns(ip)}],
                "protection": {"delete": False},
                "type": kind,
                "auto_delete": True,
                "assignee_type": "server",
                "assignee_id": server_id,
            }
            return self.store.add("primary_ips", record)

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
        if primary["assignee_id"] is not None:
            raise APIError.of("service_error", "primary IP is assigned to a server; unassign it first")
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
