"""What ``sandbox/bin/talosctl`` runs: hand the command line to the resident stand-in, else run it here.

The resident stand-in (:mod:`sandbox.talosctl.resident`) has the stand-in imported already and forks a child per
command line, so a call costs a few milliseconds, as a Go binary's would, instead of the tenth of a second a fresh
Python process spends importing. This file is run by path with ``python -S`` and imports nothing from the
package, so that it starts in milliseconds. When no resident stand-in serves the state folder (or
``TALOSFORGE_TALOSCTL_RESIDENT=0``), it becomes ``python -m sandbox.talosctl`` (the same code, in one process).

Protocol on the abstract Unix socket :func:`socket_address` (same user only):

- client: ``MAGIC_RUN`` + payload length (4 bytes, big-endian) with descriptors 0, 1, 2 attached (SCM_RIGHTS),
  then the JSON payload ``{"argv", "cwd", "env", "umask"}``;
- server: ``b"S"`` once the command runs (before it, the client may still run it itself), then the exit code
  (4 bytes, signed). The client going away ends the command (SIGTERM), as it would end a real talosctl.
- ``MAGIC_PING``: the server answers its pid (4 bytes) and closes.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    del sys.path[0]  # this folder holds modules named like stdlib ones (secrets.py); never import from it

import _socket
import marshal
import os

MAGIC_RUN = b"TFTR"
MAGIC_PING = b"TFTP"
HEADER_SIZE = 8  # magic, then a big-endian payload length (4 bytes)
CODE_SIZE = 4  # big-endian, signed
STARTED = b"S"
MARSHAL_VERSION = 4  # readable by every Python 3 from 3.4 on, whichever runs the client or the server
STATE_DIR_ENV = "TALOSFORGE_SANDBOX_DIR"
RESIDENT_ENV = "TALOSFORGE_TALOSCTL_RESIDENT"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def header(magic: bytes, length: int) -> bytes:
    return magic + length.to_bytes(4, "big")


def parse_header(data: bytes) -> tuple[bytes, int]:
    """``(magic, payload length)`` of a header; ``(b"", 0)`` for anything that is not one."""
    if len(data) != HEADER_SIZE:
        return b"", 0
    return data[:4], int.from_bytes(data[4:], "big")


def encode_code(code: int) -> bytes:
    return code.to_bytes(CODE_SIZE, "big", signed=True)


def decode_code(data: bytes) -> int:
    return int.from_bytes(data, "big", signed=True)


def state_dir(environment: dict[str, str] | os._Environ[str]) -> str:
    """The sandbox state folder, resolved exactly as ``sandbox.paths.state_dir`` resolves it."""
    chosen = environment.get(STATE_DIR_ENV) or os.path.join(REPO, ".sandbox")
    return os.path.realpath(os.path.expanduser(chosen))


def socket_address(state: str) -> str:
    """The abstract socket of the resident stand-in serving ``state`` (no file, so no path length limit).

    A 64-bit FNV-1a of the folder's path names it. Two folders sharing a name would share a server, which would
    still be right: each call carries its own environment, so its own state folder.
    """
    digest = 0xCBF29CE484222325
    for byte in state.encode("utf-8", "surrogateescape"):
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"\0talosforge-talosctl-{digest:016x}"


def receive(sock: _socket.socket, size: int) -> bytes:
    """``size`` bytes from ``sock``, or fewer when the other side closed first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def connect(state: str, timeout: float | None = None) -> _socket.socket | None:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(socket_address(state))
    except OSError:
        sock.close()
        return None
    return sock


def ping(state: str, timeout: float = 2.0) -> int | None:
    """The pid of the resident stand-in serving ``state``, or None when there is none."""
    sock = connect(state, timeout)
    if sock is None:
        return None
    try:
        sock.sendall(header(MAGIC_PING, 0))
        answer = receive(sock, CODE_SIZE)
    except OSError:
        return None
    finally:
        sock.close()
    return decode_code(answer) if len(answer) == CODE_SIZE else None


def _standard_descriptors() -> list[int]:
    descriptors = []
    for number in (0, 1, 2):
        try:
            os.fstat(number)
        except OSError:
            number = os.open(os.devnull, os.O_RDWR)  # a closed stdin/stdout still gets somewhere to go
        descriptors.append(number)
    return descriptors


def _send_request(sock: _socket.socket, payload: bytes) -> None:
    rights = b"".join(number.to_bytes(4, sys.byteorder) for number in _standard_descriptors())
    sock.sendmsg([header(MAGIC_RUN, len(payload))], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
    sock.sendall(payload)


def run_resident(argv: list[str]) -> int | None:
    """The exit code of ``talosctl argv`` run by the resident stand-in; None when it did not run there."""
    if os.environ.get(RESIDENT_ENV) == "0":
        return None
    umask = os.umask(0o022)  # read it (there is no other way), then put it back
    os.umask(umask)
    try:
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask}
    except OSError:
        return None  # no working folder: let the one-process path report it
    sock = connect(state_dir(os.environ))
    if sock is None:
        return None
    try:
        try:
            _send_request(sock, marshal.dumps(request, MARSHAL_VERSION))
            if receive(sock, 1) != STARTED:
                return None  # refused before running anything
        except OSError:
            return None
        try:
            answer = receive(sock, CODE_SIZE)
        except OSError:
            answer = b""
    finally:
        sock.close()
    if len(answer) != CODE_SIZE:
        sys.stderr.write("talosforge sandbox stand-in: the resident stand-in stopped before the command ended\n")
        return 1
    return decode_code(answer)


def main() -> None:
    argv = sys.argv[1:]
    code = run_resident(argv)
    if code is None:
        os.execv(sys.executable, [sys.executable, "-m", "sandbox.talosctl", *argv])
    sys.exit(code)


if __name__ == "__main__":
    main()
