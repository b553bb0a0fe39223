"""Power on a simulated Talos node (maintenance mode) for every node of an inventory that has none yet.

Until the provider simulators create machines themselves, this stands in for "the VMs were created and booted
from their Talos images": ``ansible-inventory -i <inventory> --list | python -m sandbox.seed_nodes``.
Nodes that already exist are left as they are, so re-running the site playbook finds them configured.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import paths
from .talosctl.nodes import TalosNodes


def _plain(value: object) -> object:
    """ansible-inventory writes inventory-plugin strings as {"__ansible_unsafe": "..."}."""
    return value.get("__ansible_unsafe") if isinstance(value, dict) else value


def addresses(inventory: dict) -> list[str]:
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    found = [_plain(host["talosforge_node"].get("address")) for host in hostvars.values() if "talosforge_node" in host]
    return [str(address) for address in found if address]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=None)
    arguments = parser.parse_args(argv)
    nodes = TalosNodes(paths.state_dir(arguments.state_dir))
    present = {node.address for node in nodes.list()}
    missing = [address for address in addresses(json.load(sys.stdin)) if address not in present]
    if missing:
        nodes.add(*missing)
    print(f"Talos nodes: {len(present)} present, {len(missing)} powered on in maintenance mode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
