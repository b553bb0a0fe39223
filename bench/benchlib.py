"""What the benchmarks share: run a playbook on localhost with extra variables and time it; a first run and a re-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
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
