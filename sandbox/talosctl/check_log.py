"""Check every talosctl command line recorded in a sandbox log against the CLI reference of the pinned version.

``python -m sandbox.talosctl.check_log [--state-dir D]``: prints each invocation that uses a command or flag the
reference does not list, and exits 1 if there is any (0 with a count otherwise). The stand-in already refuses such
command lines; this check also covers invocations that were refused, so a wrong flag cannot hide in a failure path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import paths
from .contract import load

CLI_REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "contracts" / "talos" / "v1.13.9" / "cli.md"


def problems(log: Path, reference: Path = CLI_REFERENCE) -> tuple[int, list[str]]:
    """(number of invocations checked, one line per invocation that breaks the contract)."""
    contract = load(reference)
    found: list[str] = []
    count = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        count += 1
        argv = json.loads(line)["argv"]
        for problem in contract.check(argv):
            found.append(f"talosctl {' '.join(argv)}: {problem}")
    return count, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=None)
    arguments = parser.parse_args(argv)
    log = paths.state_dir(arguments.state_dir) / "logs" / "talosctl.jsonl"
    if not log.exists():
        print(f"no talosctl log at {log}", file=sys.stderr)
        return 1
    count, found = problems(log)
    for item in found:
        print(item)
    print(f"{count} talosctl invocations checked against {CLI_REFERENCE.name}: {len(found)} problems")
    return 1 if found or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
