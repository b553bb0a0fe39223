"""A sandbox server's own certificate authority and server certificate, made once in a folder.

Servers of the sandbox that speak TLS (the Proxmox VE simulator, the HTTPS Git server) sign their server certificate
with a CA of their own, as a fresh PVE node or a self-hosted Git forge does: ``ca.pem`` is what a client verifies them
with; without it, verification fails. The server certificate names ``localhost``, ``127.0.0.1``, ``::1`` and any
further DNS names given. Files are kept across restarts; keys are written 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server.key"


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_certificates(
    folder: Path,
    unit: str,
    ca_common_name: str,
    server_common_name: str = "127.0.0.1",
    dns_names: tuple[str, ...] | list[str] = (),
    keep_ca_key: bool = False,
) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) in ``folder``, created when one is missing. ``unit`` names the server in the
    certificates' subjects; ``keep_ca_key`` keeps the CA's key beside them (0600), to sign again later."""
    ca_path, cert_path, key_path = folder / CA_FILE, folder / CERT_FILE, folder / KEY_FILE
    if ca_path.exists() and cert_path.exists() and key_path.exists():
        return ca_path, cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talosforge sandbox"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name(ca_common_name))
        .issuer_name(name(ca_common_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    names += [x509.DNSName(extra) for extra in dns_names if extra != "localhost"]
    server = (
        x509.CertificateBuilder()
        .subject_name(name(server_common_name))
        .issuer_name(name(ca_common_name))
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=730))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    if keep_ca_key:
        _write(folder / "ca.key", _key_bytes(ca_key), 0o600)
    _write(key_path, _key_bytes(server_key), 0o600)
    _write(cert_path, server.public_bytes(pem) + ca.public_bytes(pem), 0o644)
    _write(ca_path, ca.public_bytes(pem), 0o644)
    return ca_path, cert_path, key_path
