"""Reverse DNS (PTR) records of public addresses, as ``change_dns_ptr`` of servers, primary IPs, floating IPs and
load balancers changes them (cloud.spec.json).

An IPv4 address has exactly one record: its default (``static.<reversed>.clients.your-server.de``) until one is
set, and again after one is reset (``dns_ptr: null``). An IPv6 /64 has a record per address set inside it and none
by default; ``null`` removes the record of that address.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .errors import APIError
from .state import reverse_dns

# a fully qualified domain name: dot-separated labels of letters, digits and inner dashes (a trailing dot allowed)
_DOMAIN = re.compile(r"(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?")


def address_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise APIError.invalid_input("ip", f"'{text}' is not an IPv4 or IPv6 address") from None


def check_domain(value: str) -> None:
    if not _DOMAIN.fullmatch(value):
        raise APIError.invalid_input("dns_ptr", f"'{value}' is not a fully qualified domain name")


def default_records(address: str) -> list[dict[str, Any]]:
    """The records a new address has: its default for an IPv4 address, none for an IPv6 network."""
    bare = address.split("/", maxsplit=1)[0]
    return [{"ip": bare, "dns_ptr": reverse_dns(bare)}] if ":" not in bare else []


def changed_records(address: str, records: list[dict[str, Any]], ip: str, ptr: str | None) -> list[dict[str, Any]]:
    """``records`` of ``address`` (an IPv4 address or an IPv6 network) with the one of ``ip`` set to ``ptr``, or
    reset (IPv4) / removed (IPv6) when ``ptr`` is None. Refused: an ``ip`` outside ``address``, a bad name."""
    wanted = address_of(ip)
    network = ipaddress.ip_network(address, strict=False)
    if wanted.version != network.version or wanted not in network:
        raise APIError.invalid_input("ip", f"{ip} is not an address of {address}")
    if ptr is not None:
        check_domain(ptr)
    if network.version == 4:
        return [{"ip": str(wanted), "dns_ptr": ptr if ptr is not None else reverse_dns(str(wanted))}]
    kept = [item for item in records if ipaddress.ip_address(item["ip"]) != wanted]
    return kept + ([{"ip": str(wanted), "dns_ptr": ptr}] if ptr is not None else [])
