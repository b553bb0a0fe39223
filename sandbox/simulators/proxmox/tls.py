"""The simulator's own certificate authority and server certificate, made once under ``<state>/proxmox/``.

Like a fresh PVE node (whose ``pve-root-ca.pem`` signs ``pve-ssl.pem``), the simulator signs its server
certificate with a CA of its own: ``ca.pem`` is what a client passes as its CA file (the collection's ``ca_path``);
without it, TLS verification fails. The certificate names ``127.0.0.1``, ``::1``, ``localhost`` and the PVE node
names. Files are kept across restarts; ``reset`` keeps them too (they are not API data).
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

from ... import tls
from ...tls import CA_FILE, CERT_FILE, KEY_FILE

__all__ = ["CA_FILE", "CERT_FILE", "KEY_FILE", "ensure_certificates", "server_context"]
_LOCK = threading.Lock()


def ensure_certificates(folder: Path, node_names: list[str]) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) in ``folder``, created on first use (keys 0600)."""
    with _LOCK:
        return tls.ensure_certificates(
            folder,
            "Proxmox VE simulator",
            "Proxmox Virtual Environment simulator CA",
            node_names[0] if node_names else "localhost",
            node_names,
        )


def server_context(folder: Path, node_names: list[str]) -> ssl.SSLContext:
    """A server-side TLS context with the simulator's certificate (TLS 1.2 or newer)."""
    _ca, cert, key = ensure_certificates(folder, node_names)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
