"""What the controller stand-ins' processes share: their command line, their exit on SIGTERM and their polling loop.

cluster.py starts each stand-in (lb_ipam, powerdns_runner, flux_operator, hcloud_ccm, the kubelets) as a detached
``python -m sandbox.kube.<name>`` and stops it with SIGTERM. Each one syncs, sleeps and syncs again for as long as
it lives; a pass that fails on an error it expects is logged and tried again on the next round.
"""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn


def now() -> str:
    """The current UTC time as the stand-ins write it in their logs and in the objects' timestamps."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def arguments(module: str, doc: str | None, argv: list[str] | None, *directories: str) -> argparse.Namespace:
    """The stand-in's command line: each of ``directories`` (``--cluster-dir``, ...) a required path option."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=(doc or module).splitlines()[0])
    for option in directories:
        parser.add_argument(option, required=True, type=Path)
    return parser.parse_args(argv)


def exit_on_sigterm(cleanup: Callable[[], None] | None = None) -> None:
    """From now on SIGTERM runs ``cleanup`` (when given) and exits with status 0."""

    def stop(*_: object) -> None:
        if cleanup is not None:
            cleanup()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)


def run_forever(
    sync: Callable[[], bool],
    errors: tuple[type[Exception], ...],
    poll_s: float,
    idle_poll_s: float | None = None,
    *,
    busy_after_error: bool = True,
) -> NoReturn:
    """Call ``sync()`` every ``poll_s`` while it returns true (busy), every ``idle_poll_s`` (default ``poll_s``)
    while it returns false. A pass that raises one of ``errors`` is logged and counts as busy, or as idle with
    ``busy_after_error=False``; any other exception ends the process."""
    idle_s = poll_s if idle_poll_s is None else idle_poll_s
    while True:
        busy = busy_after_error
        try:
            busy = sync()
        except errors as error:
            print(f"{now()} sync failed (retrying): {error}", flush=True)
        time.sleep(poll_s if busy else idle_s)
