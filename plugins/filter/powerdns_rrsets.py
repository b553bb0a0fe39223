# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The powerdns_rrsets filter: the record sets of the edge's public zone, as powerdns_record takes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter


def _plain(name: Any) -> str:
    """A DNS name compared as the zone file does: lower case, without the final dot."""
    text = str(name).lower()
    return text[:-1] if text.endswith(".") else text


def _inside(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _address_sets(name: str, addresses: list[Any], ttl: int) -> list[dict[str, Any]]:
    """The A set, then the AAAA set, of ``name`` (each only when it has such addresses)."""
    v4 = [str(a) for a in addresses if ":" not in str(a)]
    v6 = [str(a) for a in addresses if ":" in str(a)]
    sets = []
    for kind, records in (("A", v4), ("AAAA", v6)):
        if records:
            sets.append({"name": name, "type": kind, "ttl": ttl, "records": records})
    return sets


def _mappings(value: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError(f"{what} must be a list of mappings")
    return value


def rrsets(
    zone: str,
    domain: str,
    nameservers: list[Mapping[str, Any]],
    delegations: list[Mapping[str, Any]],
    public_addresses: list[str],
    ttl: int,
    publish_domain: bool = True,
    records: list[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The public zone's record sets, in this order:

    each delegation's NS set; the address sets of every name server (the zone's own and the delegations') whose
    name is inside the zone, once per name; the edge's domain and its wildcard at ``public_addresses`` when
    ``publish_domain`` and the domain is inside the zone and not delegated; then ``records`` as given.
    """
    zone, domain = _plain(zone), _plain(domain)
    servers = list(_mappings(nameservers, "nameservers"))
    sets: list[dict[str, Any]] = []
    domain_delegated = False
    for delegation in _mappings(delegations, "delegations"):
        delegated = _plain(delegation.get("zone"))
        delegated_servers = _mappings(delegation.get("nameservers"), f"the name servers of {delegated}")
        sets.append(
            {"name": delegated, "type": "NS", "ttl": ttl, "records": [s.get("name") for s in delegated_servers]}
        )
        servers += delegated_servers
        domain_delegated = domain_delegated or _inside(domain, delegated)
    named: list[str] = []
    for server in servers:
        name = _plain(server.get("name"))
        if server.get("addresses") and _inside(name, zone) and name not in named:
            named.append(name)
            sets += _address_sets(name, list(server["addresses"]), ttl)
    if publish_domain and not domain_delegated and _inside(domain, zone):
        for name in (domain, f"*.{domain}"):
            sets += _address_sets(name, list(public_addresses or []), ttl)
    return sets + [dict(record) for record in records or []]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"powerdns_rrsets": as_filter("powerdns_rrsets", rrsets)}
