"""Errors the stand-in reports, worded as talosctl and the Talos API word them."""

from __future__ import annotations

from ..simulators.talos.errors import rpc

API_PORT = 50000


class TalosctlError(Exception):
    """A failed command: ``message`` goes to stderr as talosctl prints it, the exit code is 1."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def multierror(problems: list[str]) -> str:
    """hashicorp/go-multierror's text: ``1 error occurred:\\n\\t* ...\\n\\n``."""
    count = f"{len(problems)} error occurred" if len(problems) == 1 else f"{len(problems)} errors occurred"
    return f"{count}:\n" + "".join(f"\t* {problem}\n" for problem in problems) + "\n"


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def no_route(address: str) -> str:
    return rpc(
        "Unavailable",
        'connection error: desc = "transport: Error while dialing: dial tcp '
        f'{_host(address)}:{API_PORT}: connect: no route to host"',
    )


def refused(address: str) -> str:
    return rpc(
        "Unavailable",
        'connection error: desc = "transport: Error while dialing: dial tcp '
        f'{_host(address)}:{API_PORT}: connect: connection refused"',
    )


def unknown_authority() -> str:
    return rpc(
        "Unavailable",
        'connection error: desc = "transport: authentication handshake failed: '
        'tls: failed to verify certificate: x509: certificate signed by unknown authority"',
    )


def bad_certificate() -> str:
    return rpc(
        "Unavailable", 'connection error: desc = "error reading server preface: remote error: tls: bad certificate"'
    )


def certificate_required() -> str:
    return rpc(
        "Unavailable",
        'connection error: desc = "error reading server preface: remote error: tls: certificate required"',
    )


def eof() -> str:
    return rpc("Unavailable", "error reading from server: EOF")


def per_node(failures: list[tuple[str, str]]) -> str:
    """Errors that apid put in the metadata of each node's answer."""
    return multierror([f"{node}: {message}" for node, message in failures])
