"""Benchmark: the GitOps stage on the sandbox cluster (seed 001's shape), with the real Flux controllers.

Starts a fresh sandbox (python -m sandbox start: every simulator on its fixed port, the Git servers and the
repository the sandbox inventory pushes to), builds the cluster and its platform without the GitOps stage
(site.yml --skip-tags gitops), then runs the stage (--tags gitops, which runs the platform stage first, a no-op):

- first run: sops, the keys, the tree encrypted and pushed, flux-operator and the FluxInstance, then Flux taking
  over the platform's six releases; "push to Ready" is the time from the end of the push to every Kustomization
  applied and every HelmRelease Ready (the stage's tasks after the push, from profile_tasks);
- a change: a new reconcile interval for the tree's Kustomizations, so a commit Flux must fetch and apply;
- no-op re-run: nothing to commit, nothing to write.

For each: the wall time of ansible-playbook, the stage's own tasks, the commits on the branch and the requests the
collection (user ``admin``) sent to the kube-apiserver, from its audit log. Targets for the re-run: no commit and
no write request. Not a timed test; it uses the sandbox's fixed ports, so run it alone.
Run with: bench/run gitops
"""

from __future__ import annotations

import os
import subprocess

from benchlib import REPO, audit_events, collection_requests, fresh_sandbox, profiled_tasks, site

ROLE = "talosforge.cluster.gitops"
PUSH_TASK = "Commit and push the tree"
REPOSITORY = REPO / ".sandbox" / "git" / "repositories" / "sandbox.git"


def stage_tasks(output: str) -> list[tuple[str, float]]:
    """The GitOps role's tasks in the order they ran, with profile_tasks' time for each."""
    return [(task, seconds) for _role, task, seconds in profiled_tasks(output, (ROLE,))]


def commits() -> int:
    done = subprocess.run(
        ["git", "--git-dir", str(REPOSITORY), "rev-list", "--count", "main"],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(done.stdout.strip() or 0) if done.returncode == 0 else 0


def main() -> None:
    # The sandbox cluster runs its workloads: helm-controller waits for the releases' Deployments.
    os.environ["TALOSFORGE_SANDBOX_CONTROLLERS"] = "1"
    with fresh_sandbox() as state:
        seconds = site("--skip-tags", "gitops")[0]
        print(f"cluster and platform without the GitOps stage: {seconds:.1f} s")
        print(f"{'GitOps stage':14} {'wall s':>7} {'stage s':>7} {'push->Ready s':>13} {'commits':>7} "
              f"{'API reads':>9} {'API writes':>10}")  # fmt: skip
        changed = ("-e", "gitops_interval=2m")
        runs = (("first run", ()), ("a change", changed), ("no-op re-run", changed))
        slowest: dict[str, list[tuple[str, float]]] = {}
        for phase, extra in runs:
            before, commits_before = collection_requests(audit_events(state)), commits()
            seconds, output = site("--tags", "gitops", *extra)
            after = collection_requests(audit_events(state))
            tasks = stage_tasks(output)
            names = [name for name, _seconds in tasks]
            pushed = next((i for i, name in enumerate(names) if name.startswith(PUSH_TASK)), len(names))
            to_ready = sum(task_seconds for _name, task_seconds in tasks[pushed + 1 :])
            stage = sum(task_seconds for _name, task_seconds in tasks)
            print(f"{phase:14} {seconds:7.1f} {stage:7.1f} {to_ready:13.1f} {commits() - commits_before:7d} "
                  f"{after[0] - before[0]:9d} {after[1] - before[1]:10d}", flush=True)  # fmt: skip
            slowest[phase] = sorted(tasks, key=lambda task: -task[1])[:4]
        for phase, tasks in slowest.items():
            print(f"slowest tasks of the {phase}:")
            for name, task_seconds in tasks:
                print(f"  {task_seconds:5.2f} s  {name}")


if __name__ == "__main__":
    main()
