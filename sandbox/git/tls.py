"""The HTTPS Git server's certificate authority and server certificate, made once under ``<state>/git/https/``.

``ca.pem`` is what a client verifies the server with (git's ``http.sslCAInfo``, Flux's ``ca.crt``); the server
certificate names ``127.0.0.1``, ``::1`` and ``localhost``. The CA's key stays beside it (0600) so that a future
change of names can sign again; nothing else uses it. Files are kept across restarts and resets.
"""

from __future__ import annotations

from pathlib import Path

from .. import tls


def ensure_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) in ``folder``, created when one is missing."""
    return tls.ensure_certificates(folder, "Git servers", "talosforge sandbox Git servers CA", keep_ca_key=True)
