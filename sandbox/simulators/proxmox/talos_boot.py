"""What boots when a VM starts from a Talos image of the Image Factory simulator, and where it can be reached.

The factory's synthetic images start with a text label naming their schematic, version and platform; the
simulator reads it from the stored file (downloaded or uploaded alike). The schematic itself is read from the
factory simulator's store (``<factory state>/schematics/<id>.yaml``):

- ``metal`` images: the address is the first static address of the first link in the META key 0xa (10) network
  config (Talos' ``metal-network-configuration`` YAML); META works on the metal platform only;
- ``nocloud`` images: the address is ``ip=`` of ``ipconfig0``, when the VM has a cloud-init drive;
- the QEMU guest agent answers only when the schematic has the ``siderolabs/qemu-guest-agent`` extension.

No address found: the node would use DHCP, which the simulator does not model; the VM runs, but no simulated
Talos node appears (the start task's log says so).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

GUEST_AGENT_EXTENSION = "siderolabs/qemu-guest-agent"
META_NETWORK_KEY = 10
_LABEL = re.compile(
    rb"TALOSFORGE SANDBOX SYNTHETIC ASSET.*?\nschematic: (?P<schematic>[0-9a-f]{64})\nversion: (?P<version>v[^\n]+)\n"
    rb"platform: (?P<platform>[^\n]+)\n",
    re.DOTALL,
)


def image_facts(path: Path) -> dict[str, str] | None:
    """{schematic, version, platform} from a stored factory image's label; None for anything else."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    found = _LABEL.search(head)
    if found is None:
        return None
    return {key: value.decode() for key, value in found.groupdict().items()}


def schematic(factory_dir: Path, schematic_id: str) -> dict[str, Any]:
    """The registered schematic as data ({} when the factory simulator does not know it)."""
    if not re.fullmatch(r"[0-9a-f]{64}", schematic_id):
        return {}
    try:
        data = yaml.safe_load((factory_dir / "schematics" / f"{schematic_id}.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def extensions(record: dict[str, Any]) -> list[str]:
    customization = record.get("customization") or {}
    return list(((customization.get("systemExtensions") or {}).get("officialExtensions")) or [])


def meta_address(record: dict[str, Any]) -> str | None:
    """First static address of the first link in META key 0xa (``10.5.0.11/24``)."""
    customization = record.get("customization") or {}
    value = next(
        (item.get("value") for item in customization.get("meta") or [] if item.get("key") == META_NETWORK_KEY), None
    )
    if not value:
        return None
    try:
        config = yaml.safe_load(value)
    except yaml.YAMLError:
        return None
    if not isinstance(config, dict):
        return None
    addresses = [item for item in config.get("addresses") or [] if isinstance(item, dict) and item.get("address")]
    links = [item.get("name") for item in config.get("links") or [] if isinstance(item, dict)]
    first_link = links[0] if links else None
    chosen = next((item for item in addresses if item.get("linkName") == first_link), None)
    chosen = chosen or (addresses[0] if addresses else None)
    return str(chosen["address"]) if chosen else None


def ipconfig_address(config: dict[str, str]) -> str | None:
    """The IPv4 (or IPv6) address of ``ipconfig0`` when a cloud-init drive is attached."""
    if not any("cloudinit" in value for key, value in config.items() if re.fullmatch(r"(ide|sata|scsi)\d+", key)):
        return None
    items = dict(part.split("=", 1) for part in config.get("ipconfig0", "").split(",") if "=" in part)
    for key in ("ip", "ip6"):
        if items.get(key) and items[key] not in ("dhcp", "auto"):
            return items[key]
    return None


def boot_plan(image: dict[str, str] | None, config: dict[str, str], factory_dir: Path) -> dict[str, Any]:
    """What starting the VM brings up: {talos, address, version, schematic, platform, guest_agent, note}."""
    if not image:
        return {"talos": False, "address": None, "guest_agent": False, "note": "the boot disk is not a Talos image"}
    record = schematic(factory_dir, image["schematic"])
    platform = image.get("platform", "metal")
    if platform == "metal":
        address = meta_address(record)
        source = "META key 0xa of the image's schematic"
    elif platform == "nocloud":
        address = ipconfig_address(config)
        source = "ipconfig0 with a cloud-init drive"
    else:
        address, source = None, f"platform {platform}"
    address, _slash, prefix = (address or "").partition("/")
    agent_enabled = config.get("agent", "0").split(",")[0].removeprefix("enabled=").lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
    note = (
        f"Talos {image['version']} ({platform}) boots into maintenance mode at {address} (from {source})"
        if address
        else f"Talos {image['version']} ({platform}) found no static address ({source}): it would use DHCP, "
        "which the simulator does not model, so no Talos node is reachable"
    )
    return {
        "talos": True,
        "address": address or None,
        "prefix": prefix or None,
        "version": image["version"],
        "schematic": image["schematic"],
        "platform": platform,
        "guest_agent": agent_enabled and GUEST_AGENT_EXTENSION in extensions(record),
        "note": note,
    }
