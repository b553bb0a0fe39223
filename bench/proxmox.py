"""Benchmark: N Talos VMs on the Proxmox VE simulator, our one-task module against a per-node loop.

For N in (5, 30) it stages one Talos image (with the qemu-guest-agent extension) into the simulator's storage, then
runs two playbooks against the sandbox Proxmox VE simulator (on loopback, each worker task -- create, resize,
start -- taking a fixed time, and each API request a fixed latency, standing in for a real PVE host):

- ours: one task, talosforge.cluster.proxmox_vms with the whole node list (phases in parallel inside the module,
  all task UPIDs polled together);
- baseline: the obvious playbook, a ``loop`` over the nodes calling the same module with one node each (what a
  per-VM module such as community.proxmox.proxmox_kvm amounts to).

Each runs twice: first run (every VM created, started, agent waited on) and re-run (nothing to do). It prints wall
time and the API requests the simulator received. Not a timed test: read the table against the last one.
Run with: bench/run proxmox
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchlib import first_run_and_rerun, run_playbook

from sandbox.harness import running
from sandbox.simulators.proxmox import DEFAULT_TOKEN, ca_file

VERSION = "v1.13.9"
SCHEMATIC = "customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n"

DEFAULTS = """
  module_defaults:
    talosforge.cluster.proxmox_talos_image: &pve
      api_url: "{{ pve }}"
      api_token_id: "{{ token_id }}"
      api_token_secret: "{{ token_secret }}"
      ca_path: "{{ ca }}"
    talosforge.cluster.proxmox_vms: *pve
"""


def playbook(tasks: str) -> str:
    """A play on localhost with the Proxmox modules' defaults, running ``tasks`` (YAML list items)."""
    return "\n- hosts: localhost\n  gather_facts: false" + DEFAULTS + "\n  tasks:\n" + tasks


PLAYBOOK_STAGE = playbook(
    """\
    - talosforge.cluster.image_factory_schematic:
        url: "{{ factory }}"
        schematic: "{{ schematic | from_yaml }}"
      register: registered
    - talosforge.cluster.proxmox_talos_image:
        name_prefix: talosforge-bench-
        pve_nodes: [pve1, pve2]
        poll_interval: 0.1
        images:
          - url: "{{ factory }}/image/{{ registered.id }}/{{ version }}/metal-amd64.qcow2"
      register: stored
    - ansible.builtin.copy:
        content: "{{ stored.images[0].volid }}"
        dest: "{{ volid_file }}"
        mode: "0600"
"""
)

PLAYBOOK_OURS = playbook(
    """\
    - talosforge.cluster.proxmox_vms:
        cluster_name: bench
        nodes: "{{ nodes }}"
        vmid_base: 1000
        poll_interval: 0.5
"""
)

PLAYBOOK_BASELINE = playbook(
    """\
    - talosforge.cluster.proxmox_vms:
        cluster_name: bench
        nodes: ["{{ item }}"]
        vmid_base: "{{ 1000 + index }}"
        poll_interval: 0.5
      loop: "{{ nodes }}"
      loop_control:
        index_var: index
"""
)


def nodes(count: int, volid: str) -> list[dict]:
    return [
        {
            "name": f"node-{index + 1}",
            "role": "controlplane" if index < 3 else "worker",
            "pve_node": "pve1" if index % 2 == 0 else "pve2",
            "cores": 2,
            "memory": 4096,
            "disk": 20,
            "image": volid,
            "address": f"10.5.{index // 200}.{10 + index % 200}",
        }
        for index in range(count)
    ]


def api_requests(pve) -> int:
    return sum(1 for record in pve.requests() if record["path"].startswith("/api2/json"))


def measure(variant: str, count: int, task_s: float, latency_ms: float) -> list[tuple[str, float, int]]:
    playbook = PLAYBOOK_OURS if variant == "ours" else PLAYBOOK_BASELINE
    token_id, token_secret = DEFAULT_TOKEN.split("=", 1)
    with tempfile.TemporaryDirectory(prefix="talosforge-bench-") as tmp:
        workdir = Path(tmp)
        state = workdir / "state"
        with (
            running("image-factory", state, raw_image_size=1 << 20, asset_size=1 << 16) as factory,
            running("proxmox", state, nodes=["pve1", "pve2"], task_seconds=task_s, storage_size=4 << 40) as pve,
        ):
            extra = {
                "factory": factory.url,
                "pve": pve.url,
                "token_id": token_id,
                "token_secret": token_secret,
                "ca": str(ca_file(pve.state_dir)),
                "version": VERSION,
                "schematic": SCHEMATIC,
                "volid_file": str(workdir / "volid"),
            }
            run_playbook(PLAYBOOK_STAGE, extra, workdir)
            extra["nodes"] = nodes(count, (workdir / "volid").read_text(encoding="utf-8").strip())
            pve.set_latency(latency_ms)
            return first_run_and_rerun(lambda: run_playbook(playbook, extra, workdir), lambda: api_requests(pve))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[5, 30])
    parser.add_argument("--task-seconds", type=float, default=1.0, help="how long each PVE worker task runs")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="simulated latency per API request")
    parser.add_argument("--variants", nargs="+", default=["ours", "baseline"], choices=["ours", "baseline"])
    args = parser.parse_args()
    print(f"proxmox: N VMs on 2 PVE nodes; task time {args.task_seconds:g} s, API latency {args.latency_ms:.0f} ms")
    print(f"{'N':>4}  {'variant':<9} {'phase':<10} {'wall s':>8} {'requests':>9}")
    for count in args.counts:
        for variant in args.variants:
            for phase, seconds, requests in measure(variant, count, args.task_seconds, args.latency_ms):
                print(f"{count:>4}  {variant:<9} {phase:<10} {seconds:>8.2f} {requests:>9}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
