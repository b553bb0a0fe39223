# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials left empty in a role's variables come from the play's module_defaults, as the roles document.

Run for real: ansible-playbook against the simulators on free ports. The Hetzner simulator accepts one token only,
so a run that succeeds proves the modules got the token of module_defaults (no HCLOUD_TOKEN in the environment);
the Proxmox simulator serves TLS signed by its own CA, so a run that succeeds proves the ca_path of
module_defaults reached the modules.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from playbook_testlib import run_playbook

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pve_sim = pytest.importorskip("sandbox.simulators.proxmox")

pytestmark = pytest.mark.slow

TOKEN = "module-defaults-token-0123456789abcdef"
HCLOUD = {
    "name": "creds",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "image_factory": {"url": "http://127.0.0.1:9", "cache_dir": "images"},
    "provider": {"type": "hcloud", "hcloud": {"firewall_source_cidrs": ["127.0.0.0/8"]}},
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"vip": "10.0.1.100"},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "size": "cx22"},
        {"name": "w-1", "role": "worker", "address": "10.0.1.21", "size": "cax11"},
    ],
}


def playbook(tmp_path: Path, cluster: dict, text: str, *options: str) -> subprocess.CompletedProcess:
    return run_playbook(tmp_path, cluster, text, "-e", f"out={tmp_path}", *options)


def hcloud_play(endpoint: str, with_defaults: bool) -> str:
    defaults = {
        "group/talosforge.cluster.hcloud": {"api_token": TOKEN, "api_endpoint": endpoint},
    }
    play = [
        {"hosts": "all", "gather_facts": False, "roles": ["talosforge.cluster.definition"]},
        {
            "hosts": "talos",
            "gather_facts": False,
            "module_defaults": defaults if with_defaults else {},
            "tasks": [
                {"ansible.builtin.import_role": {"name": "talosforge.cluster.infra_hcloud", "tasks_from": "facts"}},
                {"ansible.builtin.copy": {"content": "{{ talosforge_infra | to_json }}", "dest": "{{ out }}/facts.json",
                                          "mode": "0600"}, "run_once": True, "delegate_to": "localhost"},
                {"ansible.builtin.import_role": {"name": "talosforge.cluster.infra_hcloud", "tasks_from": "destroy"}},
            ],
        },
        {
            "hosts": "talos",
            "gather_facts": False,
            "module_defaults": defaults if with_defaults else {},
            "tasks": [
                {"ansible.builtin.import_role": {"name": "talosforge.cluster.infra_hcloud"}, "check_mode": True},
                {"ansible.builtin.copy": {"content": "{{ talosforge_infra | to_json }}", "dest": "{{ out }}/main.json",
                                          "mode": "0600"}, "run_once": True, "delegate_to": "localhost",
                 "check_mode": False},
            ],
        },
    ]  # fmt: skip
    return yaml.safe_dump(play, sort_keys=False)


def test_hcloud_token_from_module_defaults(tmp_path):
    with harness.running("hcloud", tmp_path / "sim", token=TOKEN) as sim:
        endpoint = sim.url + "/v1"
        done = playbook(tmp_path, HCLOUD, hcloud_play(endpoint, with_defaults=True))
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        statuses = [(r["method"], r["path"].split("?")[0], r["status"]) for r in sim.requests()]
        assert ("GET", "/v1/servers", 200) in statuses  # hcloud_servers (facts) and hcloud_cluster_resources
        assert ("GET", "/v1/networks", 200) in statuses  # hcloud_cluster_base (main, check mode)
        assert not [s for s in statuses if s[2] == 401]
        facts = json.loads((tmp_path / "facts.json").read_text())
        assert facts == {"provider": "hcloud", "endpoint": {}, "nodes": []}
        main = json.loads((tmp_path / "main.json").read_text())
        assert main["endpoint"] == {"address": "10.0.1.100", "port": 6443, "kind": "vip"}

        # The control: without module_defaults (and no HCLOUD_TOKEN) the same run is refused.
        refused = playbook(tmp_path, HCLOUD, hcloud_play(endpoint, with_defaults=False))
        assert refused.returncode != 0
        assert "missing required arguments: api_token" in refused.stdout, refused.stdout[-3000:]


PROXMOX_DESTROY = """
- hosts: all
  gather_facts: false
  roles: [talosforge.cluster.definition]
- hosts: talos
  gather_facts: false
  module_defaults:
    group/talosforge.cluster.proxmox: {ca_path: "{{ ca }}"}
  tasks:
    - ansible.builtin.import_role: {name: talosforge.cluster.infra_proxmox, tasks_from: destroy}
"""


def test_proxmox_ca_path_from_module_defaults(tmp_path):
    with harness.running("proxmox", tmp_path / "sim", task_seconds=0.05) as pve:
        token_id, secret = pve_sim.DEFAULT_TOKEN.split("=", 1)
        cluster = {
            "name": "creds",
            "talos_version": "v1.13.9",
            "kubernetes_version": "1.34.1",
            "provider": {"type": "proxmox", "proxmox": {"api_url": pve.url, "nodes": ["pve1"]}},
            "network": {"nodes": "10.0.1.0/24"},
            "nodes": [{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}],
        }
        secrets = ["-e", f"infra_proxmox_api_token_id={token_id}", "-e", f"infra_proxmox_api_token_secret={secret}"]
        ca = ["-e", f"ca={pve_sim.ca_file(pve.state_dir)}"]
        done = playbook(tmp_path, cluster, PROXMOX_DESTROY, *secrets, *ca)
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        assert [r for r in pve.requests() if r["status"] == 200]
        # The control: an unknown CA in module_defaults fails certificate verification.
        bogus = tmp_path / "bogus-ca.pem"
        bogus.write_text("not a certificate\n", encoding="utf-8")
        refused = playbook(tmp_path, cluster, PROXMOX_DESTROY, *secrets, "-e", f"ca={bogus}")
        assert refused.returncode != 0
