"""Benchmark: configure and bootstrap N Talos nodes (the site playbook's Talos stage) against the sandbox.

For N in (3, 10, 50) it writes a sandbox inventory with N nodes (3 control planes, the rest workers), powers on N
simulated Talos nodes in maintenance mode, starts a resident talosctl stand-in (so that a call costs what a Go
binary's would, not a Python start-up), and runs talosforge.cluster.site without the images and infrastructure
stages, twice: the first run (secrets, configs, apply, bootstrap, kubeconfig, every node registered with the
cluster's real kube-apiserver) and a re-run (nothing to do). The nodes' addresses are loopback ones (127.7.0.0/16),
so that the sandbox serves the cluster's real API at the VIP.
It prints wall time and the number of talosctl invocations. Work across nodes runs in parallel inside the modules,
so the first run for 50 nodes should take well under 5 times as long as for 3. Not a timed test.
Run with: bench/run talos
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchlib import first_run_and_rerun

from sandbox.harness import running
from sandbox.simulators.talos.nodes import TalosNodes
from sandbox.talosctl import resident


def definition(count: int, factory_url: str, cache_dir: str) -> dict:
    control_planes = min(3, count)
    return {
        "name": "bench",
        "talos_version": "v1.13.9",
        "kubernetes_version": "1.34.1",
        "allow_scheduling_on_control_planes": count == control_planes,
        "image_factory": {"url": factory_url, "cache_dir": cache_dir},
        "provider": {"type": "proxmox", "proxmox": {"api_url": "https://127.0.0.1:18702", "nodes": ["pve1"]}},
        "network": {"nodes": "127.7.0.0/16", "gateway": "127.7.0.1"},
        "endpoint": {"vip": "127.7.0.5"},
        "node_defaults": {"extensions": ["siderolabs/qemu-guest-agent"]},
        "node_pools": [
            {"name": "cp", "role": "controlplane", "count": control_planes, "first_address": "127.7.1.1"},
            {"name": "worker", "role": "worker", "count": count - control_planes, "first_address": "127.7.2.1"},
        ],
    }


def run_site(inventory: Path, env: dict) -> float:
    started = time.monotonic()
    subprocess.run(
        ["ansible-playbook", "talosforge.cluster.site", "-i", str(inventory), "--skip-tags", "images,infra,platform"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    return time.monotonic() - started


def invocations(state: Path) -> int:
    log = state / "logs" / "talosctl.jsonl"
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def measure(count: int, keep: Path | None = None) -> list[tuple[str, float, int]]:
    with tempfile.TemporaryDirectory(prefix="talosforge-bench-talos-") as tmp:
        work = keep / f"n{count}" if keep else Path(tmp)
        state = work / "sandbox"
        with running("image-factory", state) as factory, resident.running(state):
            inventory_dir = work / "inventory"
            (inventory_dir / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
            inventory = inventory_dir / "bench.talosforge.yml"
            document = {"plugin": "talosforge.cluster.cluster", "cluster": definition(count, factory.url, "images")}
            inventory.write_text(yaml.safe_dump(document), encoding="utf-8")
            group_vars = {
                "talosctl_url": f"{factory.url}/talosctl/v1.13.9/talosctl-linux-amd64",
                "talosctl_checksum_url": f"file://{state}/image-factory/talosctl/sha256sum.txt",
                "talosctl_install_dir": str(work / "talosctl"),
                "talos_output_dir": str(work / "cluster"),
                "talos_secrets_encrypt": False,
                "talos_wait_timeout": 120,
            }
            (inventory_dir / "group_vars" / "all" / "bench.yml").write_text(yaml.safe_dump(group_vars))
            nodes = TalosNodes(state)
            addresses = [f"127.7.1.{index + 1}" for index in range(min(3, count))]
            addresses += [f"127.7.2.{index + 1}" for index in range(count - min(3, count))]
            nodes.add(*addresses)
            env = {**os.environ, "TALOSFORGE_SANDBOX_DIR": str(state)}
            return first_run_and_rerun(lambda: run_site(inventory, env), lambda: invocations(state))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[3, 10, 50])
    parser.add_argument("--keep", type=Path, help="keep each run's sandbox state and files under this folder")
    args = parser.parse_args()
    print("talos: configure and bootstrap N nodes (site playbook, images stage skipped)")
    print(f"{'N':>4}  {'phase':<10} {'wall s':>8} {'talosctl runs':>14}")
    first: dict[int, float] = {}
    for count in args.counts:
        for phase, seconds, runs in measure(count, args.keep):
            if phase == "first run":
                first[count] = seconds
            print(f"{count:>4}  {phase:<10} {seconds:>8.2f} {runs:>14}", flush=True)
    if len(first) > 1:
        low, high = min(first), max(first)
        print(f"first run, {high} nodes / {low} nodes: {first[high] / first[low]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
