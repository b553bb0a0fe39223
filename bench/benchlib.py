"""What the benchmarks share: run a playbook on localhost with extra variables and time it; a first run and a re-run."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def run_playbook(playbook: str, extra: dict, workdir: Path) -> float:
    """Write ``playbook`` and ``extra`` into ``workdir``, run ansible-playbook on localhost; the wall time in seconds.

    A failed run stops the benchmark with the end of ansible-playbook's output.
    """
    path = workdir / "playbook.yml"
    path.write_text(playbook, encoding="utf-8")
    extra_file = workdir / "extra.json"
    extra_file.write_text(json.dumps(extra), encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(path), "-e", f"@{extra_file}"],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_PYTHON_INTERPRETER": sys.executable},
    )
    if done.returncode:
        raise SystemExit(f"ansible-playbook failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return time.monotonic() - started


def first_run_and_rerun(run: Callable[[], float], count: Callable[[], int]) -> list[tuple[str, float, int]]:
    """``run()`` twice, the first run and a re-run with nothing left to do: for each, its phase, the wall time it
    returned and how much ``count()`` (the requests or calls logged so far) grew."""
    rows = []
    for phase in ("first run", "re-run"):
        before = count()
        seconds = run()
        rows.append((phase, seconds, count() - before))
    return rows


# The site playbook against the sandbox's fixed ports (bench/platform.py, bench/gitops.py).
REPO = Path(__file__).resolve().parent.parent
INVENTORY = "inventories/sandbox/cluster.talosforge.yml"
READS = ("get", "list", "watch")


def sandbox(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "sandbox", *arguments], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def fresh_sandbox() -> Iterator[Path]:
    """A sandbox started from nothing (a running one stopped and its state removed first), stopped again on the way
    out however the benchmark ends; its state directory."""
    state = REPO / ".sandbox"
    sandbox("stop")
    shutil.rmtree(state, ignore_errors=True)
    sandbox("start")
    try:
        yield state
    finally:
        sandbox("stop")


def audit_events(state: Path) -> list[dict]:
    logs = sorted((state / "logs").glob("kube-apiserver-audit-*.jsonl"))
    if not logs:
        return []
    lines = logs[0].read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def collection_requests(events: list[dict]) -> tuple[int, int]:
    """(reads, writes) the collection's admin identity made, counted once per request (its ResponseComplete)."""
    mine = [e for e in events if e.get("user", {}).get("username") == "admin" and e.get("stage") == "ResponseComplete"]
    writes = sum(1 for e in mine if e.get("verb") not in READS)
    return len(mine) - writes, writes


def site(*arguments: str) -> tuple[float, str]:
    env = {**os.environ, "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "ANSIBLE_NOCOLOR": "1"}
    env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "all"
    env["PROFILE_TASKS_SORT_ORDER"] = "none"  # the order they ran
    started = time.monotonic()
    done = subprocess.run(
        ["ansible-playbook", "talosforge.cluster.site", "-i", INVENTORY, *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"site {' '.join(arguments)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return seconds, done.stdout


_TASK_LINE = re.compile(r"^(?P<role>[\w.]+) : (?P<task>.*?) -+ (?P<seconds>[0-9.]+)s$")


def profiled_tasks(output: str, roles: tuple[str, ...]) -> list[tuple[str, str, float]]:
    """``(role, task, seconds)`` of the given roles' tasks in the order they ran, from profile_tasks' summary."""
    found = []
    for match in map(_TASK_LINE.match, output.splitlines()):
        if match and match["role"] in roles:
            found.append((match["role"], match["task"], float(match["seconds"])))
    return found
