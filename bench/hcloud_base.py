"""Benchmark: a cluster's shared Hetzner Cloud resources, talosforge.cluster.hcloud_cluster_base against the eleven
hetzner.hcloud tasks the infra_hcloud role ran before (issue 13).

Both make the same things on the sandbox's Hetzner Cloud simulator (loopback, every action running --action-ms): a
network with its subnet, a firewall with five rules, P spread placement groups and a load balancer joined to the
network with a TCP service and a label-selector target.

- ours: one talosforge.cluster.hcloud_cluster_base task;
- baseline: hetzner.hcloud.network, subnetwork, firewall, placement_group (a loop), load_balancer,
  load_balancer_network, load_balancer_info, load_balancer_service, load_balancer_target.

Each runs a first run and a re-run with nothing to do, then (on a fresh simulator) a first run where every create
meets one 503 and every action one dropped connection: "ok" when the run ended whole, "failed" when it stopped.
It prints wall time and the API requests the simulator received. Not a timed test: nothing fails on a number.
Run with: bench/run hcloud_base
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
SELECTOR = "talosforge.io/cluster=bench,talosforge.io/role=controlplane"
RULES = """
          - {direction: in, protocol: tcp, port: "6443", source_ips: [0.0.0.0/0], description: Kubernetes API}
          - {direction: in, protocol: tcp, port: "50000", source_ips: [0.0.0.0/0], description: Talos API}
          - {direction: in, protocol: tcp, port: 1-65535, source_ips: [10.0.0.0/16], description: node-to-node TCP}
          - {direction: in, protocol: udp, port: 1-65535, source_ips: [10.0.0.0/16], description: node-to-node UDP}
          - {direction: in, protocol: icmp, source_ips: [10.0.0.0/16], description: node-to-node ICMP}
"""
LABELS = "{talosforge.io/cluster: bench, talosforge.io/managed-by: talosforge.cluster}"

PLAYBOOK_OURS = f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - talosforge.cluster.hcloud_cluster_base:
        api_token: "{{{{ token }}}}"
        api_endpoint: "{{{{ endpoint }}}}"
        cluster: bench
        network: {{ip_range: 10.0.0.0/16, subnet_ip_range: 10.0.1.0/24}}
        firewall:
          rules:{RULES}
        placement_groups: "{{{{ pools }}}}"
        load_balancer: {{location: fsn1, target_label_selector: "{SELECTOR}"}}
"""

PLAYBOOK_BASELINE = f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/hetzner.hcloud.all:
      api_token: "{{{{ token }}}}"
      api_endpoint: "{{{{ endpoint }}}}"
  tasks:
    - hetzner.hcloud.network: {{name: bench, ip_range: 10.0.0.0/16, labels: {LABELS}}}
    - hetzner.hcloud.subnetwork: {{network: bench, ip_range: 10.0.1.0/24, network_zone: eu-central, type: cloud}}
    - hetzner.hcloud.firewall:
        name: bench
        labels: {LABELS}
        rules:{RULES}
    - hetzner.hcloud.placement_group: {{name: "bench-{{{{ item }}}}", type: spread, labels: {LABELS}}}
      loop: "{{{{ pools }}}}"
    - hetzner.hcloud.load_balancer: {{name: bench-api, load_balancer_type: lb11, location: fsn1, labels: {LABELS}}}
    - hetzner.hcloud.load_balancer_network: {{load_balancer: bench-api, network: bench}}
    - hetzner.hcloud.load_balancer_info: {{name: bench-api}}
      register: info
    - hetzner.hcloud.load_balancer_service:
        load_balancer: bench-api
        protocol: tcp
        listen_port: 6443
        destination_port: 6443
        health_check: {{protocol: tcp, port: 6443, interval: 15, timeout: 10, retries: 3}}
      when: info.hcloud_load_balancer_info[0].services | length == 0
    - hetzner.hcloud.load_balancer_target:
        load_balancer: bench-api
        type: label_selector
        label_selector: "{SELECTOR}"
        use_private_ip: true
"""


def api_requests(sim) -> int:
    time.sleep(0.1)  # the log record of the last answer is written as it is sent
    return sum(1 for record in sim.requests() if record["path"].startswith("/v1/"))


def spoil(sim) -> None:
    """One 503 for every create, one dropped connection for every action."""
    for kind in ("networks", "firewalls", "placement_groups", "load_balancers"):
        sim.set_fault(503, method="POST", path=f"^/v1/{kind}$")
    sim.set_fault(drop_connection=True, method="POST", path="/actions/", count=4)


def measure(variant: str, pools: int, action_ms: float) -> list[tuple[str, float, int, str]]:
    playbook = PLAYBOOK_OURS if variant == "ours" else PLAYBOOK_BASELINE
    rows = []
    with tempfile.TemporaryDirectory(prefix="talosforge-bench-") as tmp:
        workdir = Path(tmp)
        with running("hcloud", workdir / "state", action_latency_ms=action_ms, rate_limit=100000) as sim:
            extra = {"token": TOKEN, "endpoint": sim.url + "/v1", "pools": [f"pool{i}" for i in range(pools)]}
            for phase, seconds, requests in first_run_and_rerun(
                lambda: run_playbook(playbook, extra, workdir), lambda: api_requests(sim)
            ):
                rows.append((phase, seconds, requests, "ok"))
        with running("hcloud", workdir / "faulty", action_latency_ms=action_ms, rate_limit=100000) as sim:
            extra["endpoint"] = sim.url + "/v1"
            spoil(sim)
            started = time.monotonic()
            try:
                run_playbook(playbook, extra, workdir)
                outcome = "ok"
            except SystemExit:
                outcome = "failed"
            rows.append(("faults", time.monotonic() - started, api_requests(sim), outcome))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, nargs="+", default=[2, 6])
    parser.add_argument("--action-ms", type=float, default=1000.0, help="how long every simulated action runs")
    parser.add_argument("--variants", nargs="+", default=["ours", "baseline"], choices=["ours", "baseline"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / ".build" / "collections"))
    print(f"hcloud_base: network, firewall, P placement groups, API load balancer; actions run {args.action_ms:.0f} ms")
    print(f"{'P':>4}  {'variant':<9} {'phase':<10} {'wall s':>8} {'requests':>9}  outcome")
    for pools in args.pools:
        for variant in args.variants:
            for phase, seconds, requests, outcome in measure(variant, pools, args.action_ms):
                print(f"{pools:>4}  {variant:<9} {phase:<10} {seconds:>8.2f} {requests:>9}  {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
