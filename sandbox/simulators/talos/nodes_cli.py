"""``python -m sandbox talos add|list|show|fault|remove|boot``: the sandbox's simulated Talos nodes.

Wire it into ``sandbox/__main__.py`` with :func:`add_arguments` (on the ``talos`` sub-parser) and :func:`run`
(which returns the lines to print); ``python -m sandbox.simulators.talos.nodes_cli --state-dir D ...``
works on its own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ... import paths
from . import TALOS_VERSION
from .nodes import TalosNodes
from .state import FAULTS, VANILLA_SCHEMATIC, Node


def add_nodes(
    root: Path,
    addresses: Sequence[str],
    version: str = TALOS_VERSION,
    schematic: str = VANILLA_SCHEMATIC,
    install_calls: int = 0,
    platform: str = "metal",
) -> list[str]:
    added = TalosNodes(root).add(
        *addresses, version=version, schematic=schematic, install_calls=install_calls, platform=platform
    )
    return [
        f"{node.address}: maintenance mode, Talos {node.talos_version}, schematic {node.schematic}" for node in added
    ]


def describe(node: Node) -> str:
    faults = ",".join(sorted(node.faults)) or "-"
    return (
        f"{node.address:<16} {node.stage:<12} {node.role or '-':<13} {node.talos_version:<9} "
        f"{node.schematic[:12]:<13}{'yes' if node.etcd_member else 'no':<6}{node.reboots:<8}{faults}"
    )


def fingerprint(node: Node) -> str:
    """What any change to the node (config, install, reboot, upgrade) alters, on one line."""
    return f"{node.address} {node.stage} {node.config_sha256} {node.config_version} {node.reboots} {node.talos_version}"


def list_nodes(root: Path, form: str = "table") -> list[str]:
    if form == "json":
        return [json.dumps([node.to_json() for node in TalosNodes(root).list()], indent=2)]
    if form == "fingerprint":
        return [fingerprint(node) for node in TalosNodes(root).list()]
    header = (
        f"{'ADDRESS':<16} {'STAGE':<12} {'ROLE':<13} {'VERSION':<9} {'SCHEMATIC':<13}{'ETCD':<6}{'REBOOTS':<8}FAULTS"
    )
    return [header, *(describe(node) for node in TalosNodes(root).list())]


def show(root: Path, address: str) -> list[str]:
    return [json.dumps(TalosNodes(root).get(address).to_json(), indent=2)]


def set_fault(root: Path, address: str, fault: str, calls: int = 2) -> list[str]:
    node = TalosNodes(root).set_fault(address, fault, calls)
    return [f"{node.address}: faults {', '.join(sorted(node.faults)) or 'none'}"]


def remove_nodes(root: Path, addresses: Sequence[str]) -> list[str]:
    nodes = TalosNodes(root)
    return [f"{address}: {'removed' if nodes.remove(address) else 'not found'}" for address in addresses]


def boot_node(root: Path, address: str) -> list[str]:
    node = TalosNodes(root).boot(address)
    return [f"{node.address}: {node.stage}"]


def reset_state(root: Path) -> list[str]:
    """Forget every simulated Talos node and cluster and the talosctl call log (for ``python -m sandbox reset``)."""
    removed = []
    for path in (root / "talos", root / "logs" / "talosctl.jsonl"):
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(str(path))
        elif path.exists():
            path.unlink()
            removed.append(str(path))
    return [f"talos: removed {', '.join(removed)}" if removed else "talos: nothing to remove"]


def add_arguments(parser: argparse.ArgumentParser, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """The ``talos`` sub-commands, on ``parser`` (``parents`` e.g. the shared ``--state-dir`` parser)."""
    commands = parser.add_subparsers(dest="talos_command", required=True)
    add = commands.add_parser("add", help="add nodes in maintenance mode", parents=list(parents))
    add.add_argument("addresses", nargs="+", metavar="ADDRESS")
    add.add_argument("--version", default=TALOS_VERSION, help=f"Talos version booted (default {TALOS_VERSION})")
    add.add_argument("--schematic", default=VANILLA_SCHEMATIC, help="Image Factory schematic ID booted")
    add.add_argument(
        "--install-calls",
        type=int,
        default=0,
        metavar="N",
        help="talosctl calls the install takes after the first config (default 0: at once)",
    )
    add.add_argument("--platform", default="metal", help="platform (metal needs install instructions)")
    listing = commands.add_parser("list", help="one line per node", parents=list(parents))
    forms = listing.add_mutually_exclusive_group()
    forms.add_argument("--json", dest="form", action="store_const", const="json", help="full records, one JSON list")
    forms.add_argument(
        "--fingerprint",
        dest="form",
        action="store_const",
        const="fingerprint",
        help="per node: address, stage, config sha256, config version, reboots, Talos version",
    )
    listing.set_defaults(form="table")
    show_parser = commands.add_parser("show", help="a node's full record as JSON", parents=list(parents))
    show_parser.add_argument("address")
    fault = commands.add_parser("fault", help="inject or clear a fault", parents=list(parents))
    fault.add_argument("address")
    fault.add_argument("fault", choices=[*FAULTS, "clear"])
    fault.add_argument(
        "--calls",
        type=int,
        default=2,
        metavar="N",
        help="reboot-during-upgrade: calls the node stays away after the upgrade (default 2)",
    )
    remove = commands.add_parser("remove", help="forget nodes", parents=list(parents))
    remove.add_argument("addresses", nargs="+", metavar="ADDRESS")
    boot = commands.add_parser("boot", help="power a node that was shut down back on", parents=list(parents))
    boot.add_argument("address")


def run(root: Path, arguments: argparse.Namespace) -> list[str]:
    """The lines to print for a parsed ``talos`` command; KeyError/ValueError for bad input."""
    command = arguments.talos_command
    if command == "add":
        return add_nodes(
            root,
            arguments.addresses,
            arguments.version,
            arguments.schematic,
            arguments.install_calls,
            arguments.platform,
        )
    if command == "list":
        return list_nodes(root, arguments.form)
    if command == "show":
        return show(root, arguments.address)
    if command == "fault":
        return set_fault(root, arguments.address, arguments.fault, arguments.calls)
    if command == "remove":
        return remove_nodes(root, arguments.addresses)
    if command == "boot":
        return boot_node(root, arguments.address)
    raise ValueError(f"unknown talos command {command!r}")


def main(argv: list[str] | None = None) -> int:
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument("--state-dir", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="python -m sandbox talos", parents=[state], description="The sandbox's simulated Talos nodes."
    )
    add_arguments(parser, [state])
    arguments = parser.parse_args(argv)
    root = paths.state_dir(getattr(arguments, "state_dir", None))
    try:
        for line in run(root, arguments):
            print(line)
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
