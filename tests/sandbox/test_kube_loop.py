"""The stand-ins' shared process shape (sandbox/kube/loop.py): the poll intervals after a busy, an idle and a failed
pass, the failure's log line, an unexpected error ending the loop, and SIGTERM running the cleanup and exiting 0."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator

import pytest

from sandbox.kube import loop


class Stop(Exception):
    """Raised by the fake sleep to leave the endless loop."""


def passes(monkeypatch: pytest.MonkeyPatch, outcomes: list[bool | Exception]) -> Callable[[], bool]:
    """A sync() giving ``outcomes`` in turn; the sleep after the last one stops the loop."""
    left: Iterator[bool | Exception] = iter(outcomes)
    calls = {"n": 0}

    def sleep(_seconds: float) -> None:
        if calls["n"] >= len(outcomes):
            raise Stop

    monkeypatch.setattr(loop.time, "sleep", sleep)

    def sync() -> bool:
        calls["n"] += 1
        outcome = next(left)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return sync


def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    original = loop.time.sleep

    def record(seconds: float) -> None:
        slept.append(seconds)
        original(seconds)

    monkeypatch.setattr(loop.time, "sleep", record)
    return slept


@pytest.mark.parametrize(("busy_after_error", "after_error"), [(True, 1.0), (False, 3.0)])
def test_busy_idle_and_failed_passes_sleep_their_interval(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], busy_after_error: bool, after_error: float
) -> None:
    sync = passes(monkeypatch, [True, False, OSError("connection refused"), True])
    slept = sleeps(monkeypatch)
    with pytest.raises(Stop):
        loop.run_forever(sync, (OSError, KeyError), 1.0, 3.0, busy_after_error=busy_after_error)
    assert slept == [1.0, 3.0, after_error, 1.0]
    out = capsys.readouterr().out
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ sync failed \(retrying\): connection refused\n", out)


def test_without_an_idle_interval_every_pass_waits_the_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    sync = passes(monkeypatch, [False, KeyError("items"), True])
    slept = sleeps(monkeypatch)
    with pytest.raises(Stop):
        loop.run_forever(sync, (KeyError,), 1.0)
    assert slept == [1.0, 1.0, 1.0]


def test_an_unexpected_error_ends_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    sync = passes(monkeypatch, [True, RuntimeError("bug")])
    with pytest.raises(RuntimeError, match="bug"):
        loop.run_forever(sync, (OSError,), 1.0, 3.0)


def test_sigterm_runs_the_cleanup_and_exits_0() -> None:
    before = signal.getsignal(signal.SIGTERM)
    cleaned: list[str] = []
    try:
        loop.exit_on_sigterm(lambda: cleaned.append("stopped"))
        with pytest.raises(SystemExit) as exited:
            os.kill(os.getpid(), signal.SIGTERM)
        assert exited.value.code == 0
        assert cleaned == ["stopped"]
        loop.exit_on_sigterm()
        with pytest.raises(SystemExit) as exited:
            os.kill(os.getpid(), signal.SIGTERM)
        assert exited.value.code == 0
    finally:
        signal.signal(signal.SIGTERM, before)


def test_arguments_are_required_paths(capsys: pytest.CaptureFixture[str]) -> None:
    args = loop.arguments("sandbox.kube.x", "The x stand-in.\n\nMore.", ["--cluster-dir", "c", "--log-dir", "l"],
                          "--cluster-dir", "--log-dir")  # fmt: skip
    assert (str(args.cluster_dir), str(args.log_dir)) == ("c", "l")
    with pytest.raises(SystemExit):
        loop.arguments("sandbox.kube.x", "The x stand-in.", ["--cluster-dir", "c"], "--cluster-dir", "--log-dir")
    assert "python -m sandbox.kube.x" in capsys.readouterr().err
