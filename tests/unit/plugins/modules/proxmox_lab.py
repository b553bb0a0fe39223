# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Proxmox VE lab the proxmox_vms tests share: an Image Factory and a PVE simulator in one state folder, a
Talos image stored through proxmox_talos_image, and module arguments (``start_lab``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ansible_collections.talosforge.cluster.plugins.modules import proxmox_talos_image
from module_harness import run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pve_sim = pytest.importorskip("sandbox.simulators.proxmox")

EXTENSIONS = {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}}
TOKEN_ID, TOKEN_SECRET = pve_sim.DEFAULT_TOKEN.split("=", 1)


class Lab:
    """An Image Factory and a PVE simulator in one state folder, an image in storage, and module arguments."""

    def __init__(self, factory, pve, image_volid: str, image_url: str):
        self.factory, self.pve = factory, pve
        self.image_volid, self.image_url = image_volid, image_url
        self.api = {
            "api_url": pve.url,
            "api_token_id": TOKEN_ID,
            "api_token_secret": TOKEN_SECRET,
            "ca_path": str(pve_sim.ca_file(pve.state_dir)),
        }

    def nodes(self, count: int, **changes) -> list[dict]:
        result = []
        for index in range(count):
            role = "controlplane" if index < 3 else "worker"
            node = {"name": f"n{index + 1}", "role": role, "pve_node": "pve1", "cores": 2, "memory": 2048}
            node.update(disk=10, image=self.image_volid, address=f"10.5.0.{11 + index}", **changes)
            result.append(node)
        return result

    def args(self, nodes: list[dict], **extra) -> dict:
        return {**self.api, "cluster_name": "demo", "nodes": nodes, "poll_interval": 0.02, "wait_timeout": 30, **extra}

    def api_log(self) -> list[dict]:
        return [r for r in self.pve.requests() if r["path"].startswith("/api2/json")]

    def writes(self) -> list[dict]:
        return [r for r in self.api_log() if r["method"] != "GET"]


def start_lab(tmp_path, capsys) -> Iterator[Lab]:
    """The lab for one test (each test file's ``lab`` fixture yields from it)."""
    state = tmp_path / "sandbox"
    with harness.running("image-factory", state, raw_image_size=1 << 20, asset_size=1 << 16) as factory:
        with harness.running("proxmox", state, task_seconds=0.05) as pve:
            from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
                client_from_params,
            )

            schematic_id, _canonical = client_from_params({"url": factory.url}).register_schematic(EXTENSIONS)
            url = f"{factory.url}/image/{schematic_id}/v1.13.9/metal-amd64.qcow2"
            lab = Lab(factory, pve, "", url)
            stored = run_module(
                proxmox_talos_image,
                {**lab.api, "images": [{"url": url}], "pve_nodes": ["pve1"], "name_prefix": "talosforge-demo-"},
                capsys,
            )
            assert not stored.get("failed"), stored
            lab.image_volid = stored["images"][0]["volid"]
            yield lab
