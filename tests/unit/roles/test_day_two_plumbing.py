# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the day-two playbooks run before their work, for real: the infra role's dispatch to the provider's facts
entry point, and the talos role's files entry point (talosforge_talos_files), with no API involved (Proxmox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
CLUSTER = {
    "name": "dayafter",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1"]}},
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"vip": "10.0.1.100"},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"},
        {"name": "w-1", "role": "worker", "address": "10.0.1.21"},
    ],
}
PLAY = """
- hosts: all
  gather_facts: false
  roles: [talosforge.cluster.definition]
- hosts: worker
  gather_facts: false
  tasks:
    - ansible.builtin.import_role: {name: talosforge.cluster.infra, tasks_from: facts}
    - ansible.builtin.import_role: {name: talosforge.cluster.talos, tasks_from: files}
    - ansible.builtin.copy:
        content: "{{ {'infra': talosforge_infra, 'files': talosforge_talos_files} | to_json }}"
        dest: "{{ out }}/facts.json"
        mode: "0600"
      run_once: true
      delegate_to: localhost
"""


def test_infra_facts_and_talos_files(tmp_path):
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    inventory = tmp_path / "cluster.talosforge.yml"
    inventory.write_text(yaml.safe_dump({"plugin": "talosforge.cluster.cluster", "cluster": CLUSTER}), "utf-8")
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    env = {
        **os.environ,
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]),
        "ANSIBLE_INVENTORY_ENABLED": "talosforge.cluster.cluster",
    }
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(tmp_path / "play.yml")]
    done = subprocess.run(
        [*command, "-e", f"out={tmp_path}", "-e", f"talos_output_dir={tmp_path}/talos"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    facts = json.loads((tmp_path / "facts.json").read_text())
    # --limit-like play of the workers: the control plane is still known, from its static address
    assert [(n["name"], n["talos_address"]) for n in facts["infra"]["nodes"]] == [
        ("cp-1", "10.0.1.11"),
        ("w-1", "10.0.1.21"),
    ]
    assert facts["infra"]["endpoint"] == {}
    assert facts["files"]["talosconfig"] == f"{tmp_path}/talos/configs/talosconfig"
    assert facts["files"]["backups"] == f"{tmp_path}/talos/backups"
