"""Talos's own configuration code, through the ``talos-config`` program (sandbox/gotools/talos).

``gen secrets``, ``gen config`` and ``validate`` are not simulated: once the command line has passed the contract
check, :func:`hand_off` runs ``talos-config`` (a Go build of talosctl's offline commands on Talos's
``pkg/machinery`` v1.13.9) with the same arguments, in the caller's folder and environment, and relays its stdout,
stderr and exit code. The simulated nodes use it as well: :func:`node_check` asks its hidden
``talosforge-node-check`` command what a node's apply-config handler would say of a config (Talos's loader and
validation, per runtime mode) and applies ``apply-config --config-patch`` patches with Talos's patcher.

There is no fallback: without the program every one of these calls fails with the message that says how to build
it (``python -m sandbox.gotools build talos-config``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..gotools.programs import MissingProgram, binary
from .errors import TalosctlError

PROGRAM = "talos-config"
NODE_CHECK = "talosforge-node-check"  # ours, hidden; not a talosctl command
CACHE_DIR: list[Path] = []  # set by the CLI to <state>/talos/config-check-cache


def program() -> Path:
    """The built program, or a TalosctlError saying how to build it."""
    try:
        return binary(PROGRAM)
    except MissingProgram as error:
        raise TalosctlError(f"talosforge sandbox stand-in: {error}") from None


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _write_bytes(stream: IO[str], data: bytes) -> None:
    if not data:
        return
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", errors="replace"))


def _run(argv: list[str], stdin: bytes | None = None, **options: Any) -> tuple[int, bytes, bytes]:
    """Run the program to its end; ``(exit code, stdout, stderr)``.

    A talosctl call that is ended (SIGTERM: the resident stand-in ends a call whose caller went away) ends the
    program too, then ends as it would have without it.
    """
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin is not None else None, stderr=subprocess.PIPE, **options
        )
    except OSError as error:
        raise TalosctlError(f"talosforge sandbox stand-in: cannot run {argv[0]}: {error}") from None
    trapped = threading.current_thread() is threading.main_thread()
    previous: Any = None
    if trapped:

        def end(signum: int, _frame: Any) -> None:
            if process.poll() is None:
                process.kill()
                process.wait()
            signal.signal(signum, previous)
            os.kill(os.getpid(), signum)

        previous = signal.signal(signal.SIGTERM, end)
        if previous is None:  # a handler installed outside Python: leave it be
            previous = signal.SIG_DFL
    try:
        stdout, stderr = process.communicate(stdin)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if trapped:
            signal.signal(signal.SIGTERM, previous)
    code = process.returncode
    return (code if code >= 0 else 128 - code), stdout or b"", stderr or b""  # killed by signal N: 128 + N


def hand_off(rt: Any) -> int:
    """Run ``talos-config <argv>`` for this call; its exit code (stdout straight through, stderr relayed)."""
    binary = program()
    rt.out.flush()
    stdout = _fileno(rt.out)
    code, out, err = _run(
        [str(binary), *rt.argv],
        cwd=rt.cwd,
        env=rt.env,
        stdout=stdout if stdout is not None else subprocess.PIPE,
    )
    _write_bytes(rt.out, out)
    _write_bytes(rt.err, err)
    return code


# --- what a node's apply-config handler says of a config ---------------------------------------------------------


@dataclass
class NodeCheck:
    """Talos's answer for one config: decoding, and per situation (``metal`` = still to install,
    ``metal-installed``, ``cloud``, ``container``, ``metal-agent``) the validation error and warnings."""

    text: str
    decode_error: str = ""
    v1alpha1: bool = False
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def verdict(self, mode: str, installed: bool) -> tuple[str, list[str]]:
        """``(error text or "", warnings)`` for a node of runtime ``mode``, installed or not."""
        name = "metal-installed" if mode == "metal" and installed else mode
        case = self.cases.get(name) or {}
        return str(case.get("error") or ""), [str(warning) for warning in case.get("warnings") or []]


def runtime_mode(platform: str) -> str:
    """Talos's runtime mode for a platform name: metal and container are their own, every cloud is ``cloud``."""
    return platform if platform in ("metal", "container", "metal-agent") else "cloud"


def _identity(binary: Path) -> str:
    status = binary.stat()
    return f"{status.st_size}:{status.st_mtime_ns}"


def _cache_file(key: str) -> Path | None:
    return CACHE_DIR[0] / f"{key}.json" if CACHE_DIR else None


def _read_cache(key: str) -> dict[str, Any] | None:
    path = _cache_file(key)
    if path is None:
        return None
    try:
        answer = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def _write_cache(key: str, answer: dict[str, Any]) -> None:
    path = _cache_file(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(answer), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def node_check(text: str, patches: list[str] | None = None, cwd: Path | None = None) -> NodeCheck:
    """Talos's verdict on ``text`` after ``patches`` (``--config-patch`` values, ``@file`` relative to ``cwd``).

    A patch that Talos refuses is a TalosctlError worded as talosctl words it. Answers for unpatched configs are
    cached by content and program build (the collection sends each config up to three times: validate, apply
    --dry-run, apply; the answer depends on nothing else).
    """
    binary = program()
    key = None
    if not patches:
        key = hashlib.sha256(f"{_identity(binary)}\0".encode() + text.encode("utf-8")).hexdigest()
        cached = _read_cache(key)
        if cached is not None:
            return _node_check(text, cached)
    argv = [str(binary), NODE_CHECK]
    for patch in patches or []:
        argv += ["--config-patch", patch]
    code, out, err = _run(argv, text.encode("utf-8"), cwd=cwd, stdout=subprocess.PIPE)
    try:
        answer = json.loads(out)
    except ValueError:
        answer = None
    if code != 0 or not isinstance(answer, dict):
        raise TalosctlError(
            f"talosforge sandbox stand-in: {PROGRAM} {NODE_CHECK} failed (exit code {code}): "
            + err.decode("utf-8", errors="replace").strip()
        )
    if answer.get("patch_error"):
        raise TalosctlError(str(answer["patch_error"]))
    if key is not None:
        _write_cache(key, answer)
    return _node_check(str(answer.get("config", text)), answer)


def _node_check(text: str, answer: dict[str, Any]) -> NodeCheck:
    cases = answer.get("cases")
    return NodeCheck(
        text=text,
        decode_error=str(answer.get("decode_error") or ""),
        v1alpha1=bool(answer.get("v1alpha1")),
        cases=cases if isinstance(cases, dict) else {},
    )
