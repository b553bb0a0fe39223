"""Benchmark: the platform stage on the sandbox cluster (seed 001's shape), its first run and its no-op re-run.

Starts a fresh sandbox (python -m sandbox start, every simulator on its fixed port), builds the cluster without the
platform and GitOps stages (site.yml --skip-tags platform,gitops), then runs the platform stage alone twice
(--tags platform): the first
run (Cilium, every node Ready, full health, MetalLB and its pools, ingress-nginx, cert-manager, sealed-secrets,
the in-cluster PowerDNS and its zone, the ClusterIssuer) and a re-run that must find nothing to do. For each it
prints the wall time of the whole ansible-playbook run and of the platform role's own tasks (profile_tasks), and
the requests the collection sent to the real kube-apiserver, read from its audit log (user ``admin``), split into
reads and writes. Target for the re-run: under 5 s of platform tasks and no write request. Not a timed test.
It uses the sandbox's fixed ports: run it alone (the molecule and site-compat tiers take the same lock).
Run with: bench/run platform
"""

from __future__ import annotations

from benchlib import audit_events, collection_requests, fresh_sandbox, profiled_tasks, site

ROLES = ("talosforge.cluster.platform", "talosforge.cluster.helm")


def role_tasks(output: str) -> list[tuple[float, str]]:
    """The platform stage's tasks (its role and the helm role it includes) with profile_tasks' time for each."""
    return [(seconds, f"{role.rsplit('.', 1)[-1]} : {task}") for role, task, seconds in profiled_tasks(output, ROLES)]


def main() -> None:
    with fresh_sandbox() as state:
        seconds = site("--skip-tags", "platform,gitops")[0]
        print(f"cluster without the platform: {seconds:.1f} s")
        print(f"{'platform stage':16} {'wall s':>7} {'role s':>7} {'tasks':>5} {'API reads':>9} {'API writes':>10}")
        for phase in ("first run", "re-run"):
            before = collection_requests(audit_events(state))
            seconds, output = site("--tags", "platform")
            after = collection_requests(audit_events(state))
            tasks = role_tasks(output)
            reads, writes = after[0] - before[0], after[1] - before[1]
            role = sum(task[0] for task in tasks)
            print(f"{phase:16} {seconds:7.1f} {role:7.1f} {len(tasks):5d} {reads:9d} {writes:10d}", flush=True)
        print("slowest tasks of the re-run:")
        for task_seconds, name in sorted(tasks, reverse=True)[:8]:
            print(f"  {task_seconds:5.2f} s  {name}")


if __name__ == "__main__":
    main()
