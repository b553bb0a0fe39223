"""Benchmark: provisioning N Hetzner Cloud servers, talosforge.cluster.hcloud_servers against a hetzner.hcloud loop.

For N in (3, 10, 50) it runs two playbooks against the sandbox's Hetzner Cloud simulator (on loopback, every action
running for the same time, --action-ms, as real server creation does for longer):

- ours: one talosforge.cluster.hcloud_servers task with the whole node list (creates in parallel, one
  GET /actions for all pending actions per poll round, network attached with each node's private address);
- baseline: the obvious playbook, a ``loop`` over hetzner.hcloud.server (one server per iteration, waiting for
  each), then a loop over hetzner.hcloud.server_network to give each server its private address.

Each runs twice: first run (everything to create) and re-run (nothing to do). It prints wall time and the number of
API requests the simulator received (from its request log). Not a timed test: nothing fails on a number.
Run with: bench/run hcloud
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchlib import first_run_and_rerun, run_playbook

from sandbox.harness import running

TOKEN = "bench-token"
LOCATIONS = ("fsn1", "nbg1", "hel1")

PLAYBOOK_OURS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - talosforge.cluster.hcloud_servers:
        api_token: "{{ token }}"
        api_endpoint: "{{ endpoint }}"
        cluster: bench
        image: debian-12
        server_type: cx22
        network: bench
        servers: "{{ nodes }}"
"""

PLAYBOOK_BASELINE = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/hetzner.hcloud.all:
      api_token: "{{ token }}"
      api_endpoint: "{{ endpoint }}"
  tasks:
    - hetzner.hcloud.server:
        name: "{{ item.name }}"
        server_type: cx22
        image: debian-12
        location: "{{ item.location }}"
        labels: {talosforge.io/cluster: bench, talosforge.io/managed-by: talosforge.cluster}
        state: present
      loop: "{{ nodes }}"
    - hetzner.hcloud.server_network:
        server: "{{ item.name }}"
        network: bench
        ip: "{{ item.private_ipv4 }}"
      loop: "{{ nodes }}"
"""


def nodes(count: int) -> list[dict]:
    return [
        {
            "name": f"node-{index + 1}",
            "location": LOCATIONS[index % 3],
            "private_ipv4": f"10.0.{1 + index // 200}.{10 + index % 200}",
        }
        for index in range(count)
    ]


def api_requests(sim) -> int:
    time.sleep(0.1)  # the log record of the last answer is written as it is sent
    return sum(1 for record in sim.requests() if record["path"].startswith("/v1/"))


def measure(variant: str, count: int, action_ms: float) -> list[tuple[str, float, int]]:
    playbook = PLAYBOOK_OURS if variant == "ours" else PLAYBOOK_BASELINE
    with tempfile.TemporaryDirectory(prefix="talosforge-bench-") as tmp:
        workdir = Path(tmp)
        with running("hcloud", workdir / "state", action_latency_ms=action_ms, rate_limit=100000) as sim:
            from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient

            HcloudClient(TOKEN, sim.url + "/v1").call(
                "POST",
                "/networks",
                {
                    "name": "bench",
                    "ip_range": "10.0.0.0/16",
                    "subnets": [{"type": "cloud", "ip_range": "10.0.0.0/16", "network_zone": "eu-central"}],
                },
            )
            extra = {"token": TOKEN, "endpoint": sim.url + "/v1", "nodes": nodes(count)}
            return first_run_and_rerun(lambda: run_playbook(playbook, extra, workdir), lambda: api_requests(sim))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[3, 10, 50])
    parser.add_argument("--action-ms", type=float, default=1000.0, help="how long every simulated action runs")
    parser.add_argument("--variants", nargs="+", default=["ours", "baseline"], choices=["ours", "baseline"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / ".build" / "collections"))
    print(f"hcloud: N servers created and attached to a network; every action runs {args.action_ms:.0f} ms")
    print(f"{'N':>4}  {'variant':<9} {'phase':<10} {'wall s':>8} {'requests':>9}")
    for count in args.counts:
        for variant in args.variants:
            for phase, seconds, requests in measure(variant, count, args.action_ms):
                print(f"{count:>4}  {variant:<9} {phase:<10} {seconds:>8.2f} {requests:>9}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
