"""Real keys and certificates for the stand-in, read from and shaped like the ones Talos makes.

The CAs come from Talos itself (``gen secrets`` / ``gen config`` run Talos's code, see talos_config.py): ``os``
(Talos API) is Ed25519, ``etcd``, ``k8s`` and ``k8saggregator`` are ECDSA P-256, the service-account key is RSA.
What the stand-in issues from them (kubeconfig client certificates) uses the CA's key type; :func:`new_ca` makes a
CA shaped like Talos's (valid 87600 h, digitalSignature+keyCertSign, serverAuth+clientAuth) for tests that need a
stranger's. PEM blocks are written as Talos writes them: ``EC PRIVATE KEY`` (SEC1) and ``ED25519 PRIVATE KEY``.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(hours=87600)
ADMIN_VALIDITY = datetime.timedelta(hours=8760)
_ED25519_LABEL = b"ED25519 PRIVATE KEY"

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class CertAndKey:
    """A PEM certificate and its PEM private key (bytes)."""

    crt: bytes
    key: bytes


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=False)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def new_key(kind: str) -> PrivateKey:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        body = base64.encodebytes(der).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN " + _ED25519_LABEL + b"-----\n" + lines + b"\n-----END " + _ED25519_LABEL + b"-----\n"
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def load_key(pem: bytes) -> PrivateKey:
    data = pem.replace(_ED25519_LABEL, b"PRIVATE KEY")
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
        raise ValueError(f"unsupported key type {type(key).__name__}")
    return key


def load_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _name(organizations: list[str], common_name: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    if common_name:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _sign(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


def new_ca(
    kind: str, organization: str | None = None, common_name: str | None = None, start: datetime.datetime | None = None
) -> CertAndKey:
    """A self-signed CA like Talos' (see the module docstring)."""
    start = start or now()
    key = new_key(kind)
    name = _name([organization] if organization else [], common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + CA_VALIDITY)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, False, False, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return CertAndKey(_sign(builder, key).public_bytes(serialization.Encoding.PEM), key_pem(key))


def issue_client(
    ca: CertAndKey,
    organizations: list[str],
    common_name: str | None,
    validity: datetime.timedelta,
    start: datetime.datetime | None = None,
) -> CertAndKey:
    """A client certificate signed by ``ca`` (same key type as the CA's)."""
    return issue(ca, organizations, common_name, validity, start=start)


def issue(
    ca: CertAndKey,
    organizations: list[str],
    common_name: str | None,
    validity: datetime.timedelta,
    sans: list[str] | None = None,
    server: bool = False,
    client: bool = True,
    start: datetime.datetime | None = None,
) -> CertAndKey:
    """A leaf certificate signed by ``ca`` (same key type as the CA's): client and/or server use, with subject
    alternative names (IP addresses and DNS names) when given."""
    start = start or now()
    ca_cert, ca_key = load_cert(ca.crt), load_key(ca.key)
    key = new_key("ed25519" if isinstance(ca_key, ed25519.Ed25519PrivateKey) else "ecdsa")
    usages = [
        usage
        for usage, wanted in ((ExtendedKeyUsageOID.SERVER_AUTH, server), (ExtendedKeyUsageOID.CLIENT_AUTH, client))
        if wanted
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(organizations, common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(authority_key_identifier(ca_cert), critical=False)
    )
    names: list[x509.GeneralName] = []
    for san in dict.fromkeys(sans or []):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return CertAndKey(_sign(builder, ca_key).public_bytes(serialization.Encoding.PEM), key_pem(key))


def authority_key_identifier(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The AuthorityKeyIdentifier of a certificate ``ca_cert`` signs: the CA's own SubjectKeyIdentifier.

    Computing it from the CA's public key is not the same thing: Go (1.25 and later, so Talos's CAs) derives the
    identifier from a truncated SHA-256, cryptography from SHA-1, and OpenSSL refuses a chain whose identifiers
    differ ("unable to get local issuer certificate").
    """
    try:
        identifier = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier)


def signed_by(crt_pem: bytes, ca_pem: bytes) -> bool:
    """Whether ``crt_pem`` was issued by the CA in ``ca_pem`` (signature checked)."""
    try:
        load_cert(crt_pem).verify_directly_issued_by(load_cert(ca_pem))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def not_after(crt_pem: bytes) -> datetime.datetime:
    return load_cert(crt_pem).not_valid_after_utc


def organizations(crt_pem: bytes) -> list[str]:
    return [
        str(attribute.value)
        for attribute in load_cert(crt_pem).subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    ]
