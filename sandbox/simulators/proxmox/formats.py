"""PVE's named string formats (``format: pve-vmid`` ...) that the simulator checks, worded as PVE words them.

Each checker raises :class:`FormatError` with PVE's message; the validator prefixes it with ``invalid format - ``.
Formats not listed here are accepted as any string (docs/sandbox-proxmox.md lists which are checked).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

HOSTNAME = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
_DNS_NAME = re.compile(rf"(?:{HOSTNAME}\.)*{HOSTNAME}")
_CONFIGID = re.compile(r"[a-z][a-z0-9_-]+", re.IGNORECASE)
_STORAGE_ID = re.compile(r"[a-z][a-z0-9\-_.]*[a-z0-9]", re.IGNORECASE)
_VOLUME_ID = re.compile(r"([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)", re.IGNORECASE)
_VMID = re.compile(r"[1-9][0-9]{2,8}")
_MAC = re.compile(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", re.IGNORECASE)
_BRIDGE = re.compile(r"[-_.\w\d]+")
_TAG = re.compile(r"[a-z0-9_][a-z0-9_\-+.]*", re.IGNORECASE)
_DISK_SIZE = re.compile(r"\d+(?:\.\d+)?[KMGT]?")
_URLENCODED = re.compile(r"[-%a-zA-Z0-9_.!~*'()]*")
_USERID = re.compile(r"[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+")
STORAGE_CONTENT = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none")
_BOOT_DEVICE = re.compile(r"(?:ide|sata|scsi|virtio|efidisk|tpmstate|net|hostpci|usb)\d+")


class FormatError(ValueError):
    """A value that does not have the named format; the message is PVE's."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise FormatError(message)


def _items(value: str) -> list[str]:
    return [item for item in re.split(r"[;,\s]+", value) if item]


def pve_node(value: str) -> None:
    _require(re.fullmatch(HOSTNAME, value) is not None, "value does not look like a valid node name")


def pve_vmid(value: str) -> None:
    _require(_VMID.fullmatch(value) is not None, "value does not look like a valid VM ID")


def pve_storage_id(value: str) -> None:
    _require(_STORAGE_ID.fullmatch(value) is not None, f"storage ID '{value}' contains illegal characters")


def pve_configid(value: str) -> None:
    _require(_CONFIGID.fullmatch(value) is not None, f"invalid configuration ID '{value}'")


def pve_configid_list(value: str) -> None:
    for item in _items(value):
        pve_configid(item)


def dns_name(value: str) -> None:
    _require(_DNS_NAME.fullmatch(value) is not None, "value does not look like a valid DNS name")


def mac_addr(value: str) -> None:
    _require(_MAC.fullmatch(value) is not None, "value does not look like a valid unicast MAC address")


def bridge_id(value: str) -> None:
    _require(_BRIDGE.fullmatch(value) is not None and len(value) <= 15, f"invalid bridge ID '{value}'")


def tag_list(value: str) -> None:
    for tag in _items(value):
        _require(_TAG.fullmatch(tag) is not None, f"invalid tag '{tag}'")


def storage_content(value: str) -> None:
    _require(value in STORAGE_CONTENT, f"invalid content type '{value}'")


def storage_content_list(value: str) -> None:
    for item in _items(value):
        storage_content(item)


def disk_size(value: str) -> None:
    _require(_DISK_SIZE.fullmatch(value) is not None, f"unable to parse size '{value}'")


def volume_id(value: str) -> None:
    _require(_VOLUME_ID.fullmatch(value) is not None, f"unable to parse volume ID '{value}'")


def volume_id_or_qm_path(value: str) -> None:
    if value in ("none", "cdrom") or value.startswith("/"):
        return
    volume_id(value)


def volume_id_or_absolute_path(value: str) -> None:
    if not value.startswith("/"):
        volume_id(value)


def urlencoded(value: str) -> None:
    _require(_URLENCODED.fullmatch(value) is not None, f"invalid urlencoded string: {value}")


def _ip(value: str, version: int | None, cidr: bool) -> None:
    try:
        parsed = ipaddress.ip_interface(value) if cidr else ipaddress.ip_address(value)
    except ValueError:
        parsed = None
    if cidr and parsed is not None and "/" not in value:
        parsed = None
    if parsed is None or (version is not None and parsed.version != version):
        kind = {4: "IPv4", 6: "IPv6", None: "IP"}[version]
        raise FormatError(f"value does not look like a valid {kind}{' CIDR network' if cidr else ' address'}")


def ipconfig(value: str) -> None:
    """``[gw=<ipv4>] [,gw6=<ipv6>] [,ip=<ipv4/cidr|dhcp>] [,ip6=<ipv6/cidr|dhcp|auto>]``."""
    seen: set[str] = set()
    for item in value.split(","):
        key, separator, text = item.partition("=")
        _require(bool(separator), f"invalid key in comma-separated list property: {item}")
        _require(key not in seen, f"duplicate key in comma-separated list property: {key}")
        seen.add(key)
        if key == "ip":
            if text != "dhcp":
                _ip(text, 4, True)
        elif key == "ip6":
            if text not in ("dhcp", "auto"):
                _ip(text, 6, True)
        elif key == "gw":
            _ip(text, 4, False)
        elif key == "gw6":
            _ip(text, 6, False)
        else:
            raise FormatError(f"invalid key in comma-separated list property: {key}")


def boot(value: str) -> None:
    """``order=dev[;dev...]`` or the deprecated ``[legacy=]<[acdn]{1,4}>``."""
    key, separator, text = value.partition("=")
    if not separator:
        key, text = "legacy", value
    if key == "legacy":
        _require(re.fullmatch(r"[acdn]{1,4}", text) is not None, f"value does not match the regex pattern: {text}")
        return
    _require(key == "order", f"invalid key in comma-separated list property: {key}")
    for device in text.split(";"):
        _require(_BOOT_DEVICE.fullmatch(device) is not None, f"invalid boot device '{device}'")


def userid(value: str) -> None:
    _require(_USERID.fullmatch(value) is not None, "value does not look like a valid user ID")


CHECKERS: dict[str, Callable[[str], None]] = {
    "pve-node": pve_node,
    "pve-vmid": pve_vmid,
    "pve-storage-id": pve_storage_id,
    "pve-configid": pve_configid,
    "pve-configid-list": pve_configid_list,
    "dns-name": dns_name,
    "mac-addr": mac_addr,
    "pve-bridge-id": bridge_id,
    "pve-tag-list": tag_list,
    "pve-storage-content": storage_content,
    "pve-storage-content-list": storage_content_list,
    "disk-size": disk_size,
    "pve-volume-id": volume_id,
    "pve-volume-id-or-qm-path": volume_id_or_qm_path,
    "pve-volume-id-or-absolute-path": volume_id_or_absolute_path,
    "urlencoded": urlencoded,
    "pve-qm-ipconfig": ipconfig,
    "pve-qm-boot": boot,
    "pve-userid": userid,
    "ip": lambda value: _ip(value, None, False),
    "ipv4": lambda value: _ip(value, 4, False),
    "ipv6": lambda value: _ip(value, 6, False),
    "CIDR": lambda value: _ip(value, None, True),
    "CIDRv4": lambda value: _ip(value, 4, True),
    "CIDRv6": lambda value: _ip(value, 6, True),
}


def check(name: str, value: str) -> None:
    """Raise FormatError when ``value`` is not a ``name``; unknown format names accept anything."""
    checker = CHECKERS.get(name)
    if checker is not None:
        checker(value)
