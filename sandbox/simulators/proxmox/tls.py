"""The simulator's own certificate authority and server certificate, made once under ``<state>/proxmox/``.

Like a fresh PVE node (whose ``pve-root-ca.pem`` signs ``pve-ssl.pem``), the simulator signs its server
certificate with a CA of its own: ``ca.pem`` is what a client passes as its CA file (the collection's ``ca_path``);
without it, TLS verification fails. The certificate names ``127.0.0.1``, ``::1``, ``localhost`` and the PVE node
names. Files are kept across restarts; ``reset`` keeps them too (they are not API data).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server.key"
_LOCK = threading.Lock()


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talosforge sandbox"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Proxmox VE simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ensure_certificates(folder: Path, node_names: list[str]) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) in ``folder``, created on first use (keys 0600)."""
    ca_path, cert_path, key_path = folder / CA_FILE, folder / CERT_FILE, folder / KEY_FILE
    with _LOCK:
        if ca_path.exists() and cert_path.exists() and key_path.exists():
            return ca_path, cert_path, key_path
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("Proxmox Virtual Environment simulator CA")
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        names += [x509.DNSName(node) for node in node_names if node != "localhost"]
        server = (
            x509.CertificateBuilder()
            .subject_name(_name(node_names[0] if node_names else "localhost"))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=730))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        _write(
            key_path,
            server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            0o600,
        )
        _write(cert_path, server.public_bytes(pem) + ca.public_bytes(pem), 0o644)
        _write(ca_path, ca.public_bytes(pem), 0o644)
    return ca_path, cert_path, key_path


def server_context(folder: Path, node_names: list[str]) -> ssl.SSLContext:
    """A server-side TLS context with the simulator's certificate (TLS 1.2 or newer)."""
    _ca, cert, key = ensure_certificates(folder, node_names)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
