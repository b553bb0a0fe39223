# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""DNS names and record contents in the form a PowerDNS server keeps them.

Names are kept absolute (trailing dot) and lower case, record contents in the form the server returns them, so
that what is read back compares equal to what was asked for and a re-run changes nothing. A value that is not
valid raises InputError naming the option it came from (``what``). Pure: nothing here talks to the server.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

ZONE_KINDS = ("Native", "Master")

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TYPE = re.compile(r"[A-Z][A-Z0-9]{0,15}")
# Record types whose content is (or ends with) a domain name, which the server keeps absolute.
_NAME_TYPES = ("CNAME", "NS", "PTR", "DNAME", "ALIAS")
# Types a zone's own settings manage (powerdns_zone), not powerdns_record.
APEX_ONLY_TYPES = ("SOA",)
# How a disabled record is marked in RRSet.records (so it never equals an enabled one, and stays disabled when
# the other values of its set change).
DISABLED_MARK = " ; disabled"


# --------------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------------


def absolute_name(name: Any, what: str = "name", wildcard: bool = False) -> str:
    """``name`` checked and made canonical: lower case, with a trailing dot. Raises InputError."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{what}: a DNS name is required, such as example.org")
    text = name.strip().lower()
    body = text[:-1] if text.endswith(".") else text
    if not body:
        raise InputError(f"{what}: {name!r} is the root; write a domain name such as example.org")
    if len(body) > 253:
        raise InputError(f"{what}: {name!r} is longer than 253 characters, the limit for a DNS name")
    labels = body.split(".")
    for index, label in enumerate(labels):
        if not label:
            raise InputError(f"{what}: {name!r} has an empty label (two dots in a row, or a leading dot)")
        if label == "*":
            if wildcard and index == 0:
                continue
            where = "only as the first label of a record name" if wildcard else "not in a zone name"
            raise InputError(f"{what}: {name!r} has '*' where it is not allowed ('*' is allowed {where})")
        if len(label) > 63:
            raise InputError(f"{what}: label {label!r} of {name!r} is longer than 63 characters")
        if not _LABEL.fullmatch(label):
            raise InputError(
                f"{what}: label {label!r} of {name!r} is not valid; use letters, digits, '-' and '_', "
                "and do not start or end a label with '-'"
            )
    return body + "."


def record_name(name: Any, zone: str, what: str = "name") -> str:
    """The absolute name of a record in ``zone`` (absolute): ``@`` is the apex; other names are written in full."""
    if isinstance(name, str) and name.strip() == "@":
        return zone
    full = absolute_name(name, what, wildcard=True)
    if not in_zone(full, zone):
        raise InputError(
            f"{what}: {name!r} is not inside zone {zone.rstrip('.')}; write the full name (such as "
            f"www.{zone.rstrip('.')}) or '@' for the zone apex"
        )
    return full


def in_zone(name: str, zone: str) -> bool:
    """Whether absolute ``name`` is ``zone`` or below it."""
    return name == zone or name.endswith("." + zone)


def deepest_zone(name: str, zones: Iterable[str]) -> str | None:
    """The longest of ``zones`` that holds ``name`` (all absolute), or None."""
    holding = [zone for zone in zones if in_zone(name, zone)]
    return max(holding, key=len) if holding else None


def display(name: str) -> str:
    return name[:-1] if name.endswith(".") and len(name) > 1 else name


# --------------------------------------------------------------------------------------------------------------
# Record contents
# --------------------------------------------------------------------------------------------------------------


def check_type(rtype: Any, what: str = "type") -> str:
    text = str(rtype or "").strip().upper()
    if not _TYPE.fullmatch(text):
        raise InputError(f"{what}: {rtype!r} is not a DNS record type such as A, AAAA, CNAME, TXT or NS")
    return text


def _escape_txt(data: bytes) -> str:
    """Bytes as the inside of a quoted string, escaped the way PowerDNS prints them."""
    out = []
    for byte in data:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def _quote_txt(text: str) -> str:
    """A TXT value as quoted character strings of at most 255 bytes each."""
    data = text.encode("utf-8")
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join(f'"{_escape_txt(chunk)}"' for chunk in chunks)


_QUOTED_TXT = re.compile(r'"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*')


def _txt(content: str, what: str) -> str:
    text = content.strip()
    if text.startswith('"'):
        if not _QUOTED_TXT.fullmatch(text):
            raise InputError(
                f"{what}: {content!r} starts with a quote but is not a list of quoted strings; write the text "
                'without quotes (it is quoted for you) or as "part one" "part two"'
            )
        return " ".join(re.findall(r'"(?:[^"\\]|\\.)*"', text))
    return _quote_txt(content)


def _int_field(value: str, what: str, low: int, high: int, label: str) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise InputError(f"{what}: {label} {value!r} must be a number from {low} to {high}")
    return int(value)


def _a(text: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise InputError(f"{what}: {text!r} is not an IPv4 address (type A); write it as 192.0.2.10") from None


def _aaaa(text: str, what: str) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        raise InputError(f"{what}: {text!r} is not an IPv6 address (type AAAA); write it as 2001:db8::10") from None


def _mx(text: str, what: str) -> str:
    fields = text.split()
    if len(fields) != 2:
        raise InputError(f"{what}: MX {text!r} must be 'PRIORITY HOST', such as '10 mail.example.org'")
    priority = _int_field(fields[0], what, 0, 65535, "MX priority")
    return f"{priority} {absolute_name(fields[1], f'{what} (MX host)')}"


def _srv(text: str, what: str) -> str:
    fields = text.split()
    if len(fields) != 4:
        raise InputError(f"{what}: SRV {text!r} must be 'PRIORITY WEIGHT PORT TARGET'")
    numbers = [_int_field(v, what, 0, 65535, "SRV field") for v in fields[:3]]
    target = "." if fields[3] == "." else absolute_name(fields[3], f"{what} (SRV target)")
    return " ".join(str(n) for n in numbers) + " " + target


def _caa(text: str, what: str) -> str:
    match = re.fullmatch(r"(\d+)\s+([A-Za-z0-9]+)\s+(.+)", text)
    if not match:
        raise InputError(f"{what}: CAA {text!r} must be 'FLAGS TAG VALUE', such as '0 issue \"letsencrypt.org\"'")
    value = match.group(3).strip()
    value = value if value.startswith('"') else '"' + value.replace('"', '\\"') + '"'
    return f"{_int_field(match.group(1), what, 0, 255, 'CAA flags')} {match.group(2).lower()} {value}"


# How each record type's content is checked and written the way PowerDNS returns it.
_NORMALIZERS: dict[str, Callable[[str, str], str]] = {
    "A": _a,
    "AAAA": _aaaa,
    "TXT": _txt,
    "SPF": _txt,
    "MX": _mx,
    "SRV": _srv,
    "CAA": _caa,
    "SOA": lambda text, what: soa_content(*parse_soa(text, what)),
}


def normalize_content(rtype: str, content: Any, what: str = "records") -> str:
    """Record ``content`` in the form PowerDNS returns it for ``rtype``. Raises InputError when invalid."""
    if not isinstance(content, (str, int)) or isinstance(content, bool):
        raise InputError(f"{what}: {content!r} is not text; write each record as a string")
    text = str(content).strip()
    if not text:
        raise InputError(f"{what}: an empty record is not valid for type {rtype}")
    if rtype in _NAME_TYPES:
        return absolute_name(text, f"{what} ({rtype} target)")
    normalize = _NORMALIZERS.get(rtype)
    return normalize(text, what) if normalize else " ".join(text.split())


def parse_soa(text: str, what: str = "SOA") -> tuple[str, str, int, int, int, int, int]:
    """The seven fields of an SOA record: primary, contact, serial, refresh, retry, expire, minimum."""
    fields = text.split()
    if len(fields) != 7:
        raise InputError(
            f"{what}: SOA {text!r} must have 7 fields: PRIMARY CONTACT SERIAL REFRESH RETRY EXPIRE MINIMUM"
        )
    serial, refresh, retry, expire, minimum = (_int_field(v, what, 0, 4294967295, "SOA field") for v in fields[2:])
    primary = absolute_name(fields[0], f"{what} primary")
    return primary, absolute_name(fields[1], f"{what} contact"), serial, refresh, retry, expire, minimum


def soa_content(primary: str, contact: str, serial: int, refresh: int, retry: int, expire: int, minimum: int) -> str:
    return f"{primary} {contact} {serial} {refresh} {retry} {expire} {minimum}"


def parent(name: str) -> str:
    """The parent of absolute ``name`` (``example.org.`` for ``www.example.org.``; the root for a TLD)."""
    return name.split(".", 1)[1] or "."
