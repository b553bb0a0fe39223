# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Talos cluster in the sandbox (the talosctl stand-in) for the tests of the Talos node modules.

Three control planes and two workers start in maintenance mode; configurations come from the stand-in's own
``gen secrets`` / ``gen config``. Every talosctl command line a test runs goes through a ``Talosctl`` made here,
so that ``Lab.check_contract()`` can check each one against the CLI reference.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import LOCAL, Talosctl
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process

REPO = Path(__file__).resolve().parents[4]
STANDIN = REPO / "sandbox" / "bin" / "talosctl"
CLI_MD = REPO / "tests" / "contracts" / "talos" / "v1.13.9" / "cli.md"

CONTROL_PLANES = {"cp1": "10.5.0.11", "cp2": "10.5.0.12", "cp3": "10.5.0.13"}
WORKERS = {"w1": "10.5.0.21", "w2": "10.5.0.22"}
ADDRESSES = {**CONTROL_PLANES, **WORKERS}
ENDPOINT = "https://10.5.0.10:6443"
DEFAULT_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
QEMU_SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
OLD_VERSION = "v1.13.8"
NEW_VERSION = "v1.13.9"
OLD_IMAGE = f"factory.talos.dev/metal-installer/{DEFAULT_SCHEMATIC}:{OLD_VERSION}"
NEW_IMAGE = f"factory.talos.dev/metal-installer/{QEMU_SCHEMATIC}:{NEW_VERSION}"


def defaults(module: Any) -> dict[str, Any]:
    """Every option of ``module`` at its default, as AnsibleModule would pass them."""
    return {name: option.get("default") for name, option in module.argument_spec().items()}


class Lab:
    """One sandbox state folder with the five nodes, their configurations and a talosconfig."""

    def __init__(self, root: Path) -> None:
        from sandbox.simulators.talos.nodes import TalosNodes

        self.root = root
        self.state = root / "state"
        self.configs = root / "configs"
        self.env = {"TALOSFORGE_SANDBOX_DIR": str(self.state)}
        self.clients: list[Talosctl] = []
        self.sandbox = TalosNodes(self.state)
        self.talosconfig = str(self.configs / "talosconfig")

    # ----------------------------------------------------------------------------------------------------------

    def client(self) -> Talosctl:
        client = Talosctl(
            binary=str(STANDIN), talosconfig=self.talosconfig, timeout=60.0, env=self.env, runner=run_process
        )
        self.clients.append(client)
        return client

    def create(self) -> Lab:
        self.sandbox.add(*ADDRESSES.values(), version=OLD_VERSION)
        self.configs.mkdir(parents=True)
        gen = self.client()
        gen.run(["gen", "secrets", "--output-file", str(self.configs / "secrets.yaml")], LOCAL)
        gen.run(
            [
                "gen", "config", "lab", ENDPOINT,
                "--with-secrets", str(self.configs / "secrets.yaml"),
                "--install-image", OLD_IMAGE,
                "--kubernetes-version", "1.35.2",
                "--output", str(self.configs / "generated"),
            ],
            LOCAL,
        )  # fmt: skip
        shutil.copy(self.configs / "generated" / "talosconfig", self.talosconfig)
        for name in ADDRESSES:
            source = "controlplane.yaml" if name in CONTROL_PLANES else "worker.yaml"
            shutil.copy(self.configs / "generated" / source, self.config_path(name))
        return self

    def copy_to(self, root: Path) -> Lab:
        """A new lab in ``root`` with this one's state and files (a snapshot of the cluster at this point)."""
        shutil.copytree(self.root, root, dirs_exist_ok=True)
        return Lab(root)

    # ----------------------------------------------------------------------------------------------------------

    def config_path(self, name: str) -> str:
        return str(self.configs / f"{name}.yaml")

    def nodes(self, *names: str, config: bool = False) -> list[dict[str, Any]]:
        chosen = names or tuple(ADDRESSES)
        nodes = []
        for name in chosen:
            node = {
                "name": name,
                "address": ADDRESSES[name],
                "role": "controlplane" if name in CONTROL_PLANES else "worker",
            }
            if config:
                node["config"] = self.config_path(name)
            nodes.append(node)
        return nodes

    def params(self, module: Any, **values: Any) -> dict[str, Any]:
        params = defaults(module)
        params.update(talosconfig=self.talosconfig, timeout=60.0, poll_interval=0.02)
        params = {key: value for key, value in params.items() if key in module.argument_spec()}
        params.update(values)
        return params

    def run(self, module: Any, check_mode: bool = False, **values: Any) -> dict[str, Any]:
        """``module.run_module`` with a fresh Talosctl; the Talosctl is kept as ``self.last``."""
        self.last = self.client()
        return module.run_module(self.params(module, **values), check_mode, self.last)

    def node(self, name: str) -> Any:
        return self.sandbox.get(ADDRESSES[name])

    # ----------------------------------------------------------------------------------------------------------

    def commands(self) -> list[list[str]]:
        return [argv for client in self.clients for argv in client.commands()]

    def logged(self) -> list[list[str]]:
        """Every command line the stand-in received in this lab's state folder (main() runs included)."""
        log = self.state / "logs" / "talosctl.jsonl"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [json.loads(line)["argv"] for line in lines if line.strip()]

    def check_contract(self) -> int:
        """Every command line run so far is one the real talosctl v1.13.9 accepts; returns how many there were.

        The command lines are those of this lab's Talosctl objects and those the stand-in logged (which include
        the runs through main(), whose Talosctl the test does not hold).
        """
        from sandbox.talosctl import contract

        checker = contract.load(CLI_MD)
        everything = self.commands() + self.logged()
        problems = {" ".join(argv): found for argv in everything if (found := checker.check(["talosctl", *argv]))}
        assert not problems, problems
        return len(everything)
