"""The resident talosctl stand-in: one process with the stand-in imported, a forked child per command line.

A fresh Python process spends about 0.1 s importing the stand-in (YAML, cryptography, the CLI contract, the config
schema) before any work; the real talosctl, a Go binary, starts in milliseconds. With many nodes that start-up,
not the collection, would be what the benchmarks measure. This server imports and warms everything once, listens
on an abstract Unix socket named after the state folder (:func:`sandbox.talosctl.client.socket_address`), and for
each command line forks: the child takes the caller's stdin, stdout and stderr, working folder, environment and
umask, runs :func:`sandbox.talosctl.cli.main` exactly as ``python -m sandbox.talosctl`` would, and exits with its
code. Nothing is kept between calls: the state stays in ``<state>/talos/``, read and written by each child.

``python -m sandbox start`` starts it and ``stop`` stops it; :func:`running` does both for a benchmark or a test.
``python -m sandbox.talosctl.resident --state-dir D`` serves in the foreground. Linux only (pidfd).
"""

from __future__ import annotations

import argparse
import importlib
import marshal
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import processes
from ..simulators.talos import canonical
from . import CLI_MD, cli
from .client import (
    HEADER_SIZE,
    MAGIC_PING,
    MAGIC_RUN,
    STARTED,
    encode_code,
    parse_header,
    ping,
    receive,
    socket_address,
)

REQUEST_TIMEOUT_S = 2.0  # a caller sends its request as soon as it connects
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
MAX_PAYLOAD = 8 << 20
_PEER_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


class _Stop(Exception):
    """SIGTERM or SIGINT reached the server."""


@dataclass
class _Job:
    pid: int
    pidfd: int
    conn: socket.socket | None


def warm(state: Path) -> None:
    """Import every command and build what each call would otherwise build: the contract and the schema."""
    for target in cli.IMPLEMENTED.values():
        importlib.import_module(f"{__package__}.{target.split(':', 1)[0]}")
    cli.load(CLI_MD, cache_dir=state / "talos" / "cache")
    canonical.warm()


def _same_user(conn: socket.socket) -> bool:
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER_CREDENTIALS.size)
    return _PEER_CREDENTIALS.unpack(raw)[1] == os.getuid()


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    """The caller's request and its three descriptors; None after answering a ping or refusing a bad request."""
    conn.settimeout(REQUEST_TIMEOUT_S)
    message, descriptors, _flags, _address = socket.recv_fds(conn, HEADER_SIZE, 3)
    request = None
    try:
        magic, length = parse_header(message)
        if magic == MAGIC_PING:
            conn.sendall(encode_code(os.getpid()))
        elif magic == MAGIC_RUN and len(descriptors) == 3 and length <= MAX_PAYLOAD:
            payload = receive(conn, length)
            request = marshal.loads(payload) if len(payload) == length else None
    finally:
        if not (
            isinstance(request, dict)
            and isinstance(request.get("argv"), list)
            and isinstance(request.get("env"), dict)
            and isinstance(request.get("cwd"), str)
        ):
            request = None
            for descriptor in descriptors:
                os.close(descriptor)
    return (request, descriptors) if request is not None else None


def _child(request: dict[str, Any], descriptors: list[int]) -> None:
    """Become the caller's talosctl: its descriptors, folder, environment and umask; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for number, descriptor in enumerate(descriptors):
            os.dup2(descriptor, number)
        # the listener, other callers' sockets, pidfds: none of them belong to this call
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(int(request.get("umask", 0o022)))
        os.chdir(request["cwd"])
        sys.argv = ["talosctl", *request["argv"]]
        code = cli.main(list(request["argv"]))
    except SystemExit as error:
        code = error.code if isinstance(error.code, int) else 1
    except BaseException:
        sys.stderr.write("talosforge sandbox stand-in: internal error in the resident stand-in\n")
        sys.stderr.write(traceback.format_exc())
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Server:
    """The accept loop: one thread, so forking is safe; children are watched through pidfds."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.selector = selectors.DefaultSelector()
        self.jobs: dict[int, _Job] = {}
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def bind(self) -> None:
        self.listener.bind(socket_address(str(self.state)))
        self.listener.listen(128)
        self.selector.register(self.listener, selectors.EVENT_READ, None)

    def _accept(self) -> None:
        conn, _address = self.listener.accept()
        try:
            received = _read_request(conn) if _same_user(conn) else None
        except (OSError, ValueError):
            received = None
        if received is None:
            conn.close()
            return
        request, descriptors = received
        pid = os.fork()
        if pid == 0:
            _child(request, descriptors)
        for descriptor in descriptors:
            os.close(descriptor)
        job = _Job(pid, os.pidfd_open(pid), None)
        self.jobs[job.pidfd] = job
        self.selector.register(job.pidfd, selectors.EVENT_READ, job)
        try:
            conn.sendall(STARTED)
        except OSError:
            conn.close()
            self._end(job)
            return
        conn.setblocking(False)
        job.conn = conn
        self.selector.register(conn, selectors.EVENT_READ, job)

    def _hang_up(self, job: _Job) -> None:
        if job.conn is not None:
            self.selector.unregister(job.conn)
            job.conn.close()
            job.conn = None

    def _end(self, job: _Job) -> None:
        """The caller is gone while its command runs: end the command, as a killed talosctl would end."""
        self._hang_up(job)
        try:
            os.kill(job.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def _finished(self, job: _Job) -> None:
        _pid, status = os.waitpid(job.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        self.selector.unregister(job.pidfd)
        os.close(job.pidfd)
        del self.jobs[job.pidfd]
        if job.conn is not None:
            try:
                job.conn.setblocking(True)
                job.conn.sendall(encode_code(code if code >= 0 else 128 - code))  # killed by signal N: 128 + N
            except OSError:
                pass
            self._hang_up(job)

    def _caller_readable(self, job: _Job) -> None:
        try:
            gone = job.conn is not None and job.conn.recv(1) == b""
        except BlockingIOError:
            gone = False
        except OSError:
            gone = True
        if gone:
            self._end(job)

    def serve_forever(self) -> None:
        while True:
            for key, _events in self.selector.select():
                job = key.data
                if job is None:
                    self._accept()
                elif key.fileobj == job.pidfd:
                    self._finished(job)
                else:
                    self._caller_readable(job)

    def close(self) -> None:
        for job in list(self.jobs.values()):
            self._end(job)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for job in list(self.jobs.values()):
            while time.monotonic() < deadline and os.waitpid(job.pid, os.WNOHANG) == (0, 0):
                time.sleep(0.05)
        self.listener.close()
        self.selector.close()


def serve(state: Path) -> int:
    """Serve ``state`` until SIGTERM or SIGINT; 1 when another resident stand-in already serves it."""
    state.mkdir(parents=True, exist_ok=True)
    warm(state)
    server = Server(state)
    try:
        server.bind()
    except OSError as error:
        print(f"talosctl resident stand-in: cannot listen for {state}: {error}", file=sys.stderr)
        return 1

    def stop(_signum: int, _frame: Any) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"talosctl resident stand-in: serving {state} (pid {os.getpid()})", flush=True)
    try:
        server.serve_forever()
    except _Stop:
        pass
    finally:
        server.close()
    return 0


# --- lifecycle, for python -m sandbox and the benchmarks ---------------------------------------------------------


def spawn(state: Path, output: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a resident stand-in for ``state`` in its own session and wait until it answers (bounded)."""
    environment = dict(os.environ)
    repo = str(Path(__file__).resolve().parents[2])
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, environment.get("PYTHONPATH")]))
    log = output.open("ab") if output else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.talosctl.resident", "--state-dir", str(state)],
            cwd=repo,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if output:
            log.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if ping(str(state), timeout=0.5) == process.pid:
            return process
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
    process.wait(timeout=STOP_TIMEOUT_S)
    raise RuntimeError(
        f"talosctl resident stand-in for {state} did not start (exit code {process.returncode})"
        + (f"; see {output}" if output else "")
    )


@contextmanager
def running(state: str | os.PathLike[str]) -> Iterator[int]:
    """A resident stand-in for ``state`` while the block runs; yields its pid."""
    folder = Path(state).expanduser().resolve()
    process = spawn(folder)
    try:
        yield process.pid
    finally:
        processes.terminate(process.pid, STOP_TIMEOUT_S)
        process.wait(timeout=STOP_TIMEOUT_S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.talosctl.resident", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True, type=Path)
    arguments = parser.parse_args(argv)
    return serve(arguments.state_dir.expanduser().resolve())


if __name__ == "__main__":
    sys.exit(main())
