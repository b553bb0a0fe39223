# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The infra_proxmox role end to end: definition, images and infra_proxmox against in-process simulators.

The sandbox inventory's cluster (5 nodes, META addressing) is copied with the simulators' free ports; the play is
run with ansible-playbook: converge, re-run (no change), destroy (nothing of the cluster left).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pve_sim = pytest.importorskip("sandbox.simulators.proxmox")

REPO = Path(__file__).resolve().parents[4]
PLAY = """
- hosts: all
  gather_facts: false
  roles: [talosforge.cluster.definition]
- hosts: talos
  gather_facts: false
  roles: [talosforge.cluster.images, talosforge.cluster.infra_proxmox]
  post_tasks:
    - ansible.builtin.copy: {content: "{{ talosforge_infra | to_json }}", dest: "{{ infra_file }}", mode: "0600"}
      run_once: true
      delegate_to: localhost
      changed_when: false  # the test's own record, not a change to the cluster
"""
DESTROY = """
- hosts: all
  gather_facts: false
  roles: [talosforge.cluster.definition]
- hosts: talos
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {name: talosforge.cluster.infra_proxmox, tasks_from: destroy}
"""


def playbook(tmp_path: Path, inventory: Path, text: str, *options: str) -> dict[str, int]:
    path = tmp_path / "play.yml"
    path.write_text(text, encoding="utf-8")
    collections = os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path])
    env = {
        **os.environ,
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_INVENTORY_ENABLED": "talosforge.cluster.cluster",
    }
    binary = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run(
        [str(binary), "-i", str(inventory), str(path), "-e", f"infra_file={tmp_path / 'infra.json'}", *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", done.stdout, re.M)}


def test_converge_rerun_destroy(tmp_path):
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    state = tmp_path / "sandbox"
    with (
        harness.running("image-factory", state, raw_image_size=1 << 20, asset_size=1 << 16) as factory,
        harness.running("proxmox", state, task_seconds=0.05) as pve,
    ):
        document = yaml.safe_load((REPO / "inventories" / "sandbox" / "cluster.talosforge.yml").read_text())
        cluster = document["cluster"]
        cluster["image_factory"].update(url=factory.url, cache_dir=str(tmp_path / "images"))
        cluster["provider"]["proxmox"]["api_url"] = pve.url
        inventory = tmp_path / "inventory"
        (inventory / "group_vars" / "all").mkdir(parents=True)
        (inventory / "cluster.talosforge.yml").write_text(yaml.safe_dump(document), encoding="utf-8")
        token_id, secret = pve_sim.DEFAULT_TOKEN.split("=", 1)
        settings = {
            "talosforge_proxmox_api_token_id": token_id,
            "talosforge_proxmox_api_token_secret": secret,
            "infra_proxmox_ca_path": str(pve_sim.ca_file(pve.state_dir)),
            "infra_proxmox_poll_interval": 0.05,
        }
        (inventory / "group_vars" / "all" / "proxmox.yml").write_text(yaml.safe_dump(settings), encoding="utf-8")
        target = inventory / "cluster.talosforge.yml"

        first = playbook(tmp_path, target, PLAY)
        assert sum(first.values()) > 0
        infra = json.loads((tmp_path / "infra.json").read_text())
        assert infra["provider"] == "proxmox" and infra["endpoint"] == {
            "address": "127.5.0.10",
            "port": 6443,
            "kind": "vip",
        }
        assert [n["name"] for n in infra["nodes"]] == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"]
        assert [n["talos_address"] for n in infra["nodes"]] == [
            "127.5.0.11",
            "127.5.0.12",
            "127.5.0.13",
            "127.5.0.21",
            "127.5.0.22",
        ]
        assert {n["status"] for n in infra["nodes"]} == {"running"}
        vms = pve.app.cluster.nodes["pve1"].vms
        assert len(vms) == 5
        volumes = pve.app.cluster.nodes["pve1"].storages["local"].volumes
        assert len([v for v in volumes if v.startswith("local:import/talosforge-sandbox-")]) == 5  # per-node images

        assert sum(playbook(tmp_path, target, PLAY).values()) == 0

        # a run limited to the workers still publishes the control planes, from their static addresses
        assert sum(playbook(tmp_path, target, PLAY, "--limit", "worker").values()) == 0
        limited = json.loads((tmp_path / "infra.json").read_text())
        assert limited["endpoint"]["address"] == "127.5.0.10"
        assert [(n["name"], n["talos_address"], n["status"]) for n in limited["nodes"]] == [
            ("cp-1", "127.5.0.11", None),
            ("cp-2", "127.5.0.12", None),
            ("cp-3", "127.5.0.13", None),
            ("worker-1", "127.5.0.21", "running"),
            ("worker-2", "127.5.0.22", "running"),
        ]
        assert limited["nodes"][3]["provider_id"] and limited["nodes"][0]["provider_id"] is None

        playbook(tmp_path, target, DESTROY)
        assert pve.app.cluster.nodes["pve1"].vms == {}
        assert not [v for v in pve.app.cluster.nodes["pve1"].storages["local"].volumes if "talosforge-sandbox-" in v]
