# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The kinds of secret talosforge.cluster.vault_secret generates, and how each is written to and read from its file.

Each kind has ``generate(length)`` -> file text and ``read(text, where)`` -> (value, public), where ``public`` is
the public half of a key pair (None for the random kinds). A file that does not hold a secret of its kind raises
SecretsError naming the file, never with its content. The key pairs use ``cryptography`` (a dependency of
ansible-core, so present on the controller where the action plugin runs).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import secrets
import string
from collections.abc import Callable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._vault.files import SecretsError

PASSWORD_ALPHABET = string.ascii_letters + string.digits

# Bech32 (BIP 173), the text form of age keys: "age1..." recipients and "AGE-SECRET-KEY-1..." identities.
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_AGE_PUBLIC = "age"
_AGE_SECRET = "age-secret-key-"


def _polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit in range(5):
            checksum ^= generator[bit] if (top >> bit) & 1 else 0
    return checksum


def _hrp_values(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: bytes | list[int], source: int, target: int, pad: bool) -> list[int] | None:
    accumulator = bits = 0
    out = []
    for value in data:
        accumulator = (accumulator << source) | value
        bits += source
        while bits >= target:
            bits -= target
            out.append((accumulator >> bits) & ((1 << target) - 1))
    if pad and bits:
        out.append((accumulator << (target - bits)) & ((1 << target) - 1))
    elif not pad and (bits >= source or (accumulator << (target - bits)) & ((1 << target) - 1)):
        return None
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    values = _regroup(data, 8, 5, True) or []
    checksum = _polymod(_hrp_values(hrp) + values + [0] * 6) ^ 1
    values += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[v] for v in values)


def bech32_decode(text: str, hrp: str) -> bytes | None:
    """The bytes of bech32 ``text`` with human-readable part ``hrp``; None when it is not one (or the checksum
    fails)."""
    lower = text.strip().lower()
    if not lower.startswith(hrp + "1") or any(c not in _BECH32 for c in lower[len(hrp) + 1 :]):
        return None
    values = [_BECH32.index(c) for c in lower[len(hrp) + 1 :]]
    if len(values) < 6 or _polymod(_hrp_values(hrp) + values) != 1:
        return None
    data = _regroup(values[:-6], 5, 8, False)
    return bytes(data) if data is not None else None


# --------------------------------------------------------------------------------------------------------------
# The kinds
# --------------------------------------------------------------------------------------------------------------


def _not_kind(where: str, kind: str, why: str) -> SecretsError:
    return SecretsError(
        f"{where} does not hold a {kind} secret ({why}); it was not changed. Point path at another file, or move "
        "this one away to generate a new secret"
    )


def _single_line(text: str, where: str, kind: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise _not_kind(where, kind, f"{len(lines)} lines instead of one")
    return lines[0]


def _read_base64(text: str, where: str) -> tuple[str, None]:
    value = _single_line(text, where, "base64")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _not_kind(where, "base64", "not base64 text") from None
    return value, None


def _read_hex(text: str, where: str) -> tuple[str, None]:
    value = _single_line(text, where, "hex")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise _not_kind(where, "hex", "not hexadecimal text") from None
    return value, None


def _read_password(text: str, where: str) -> tuple[str, None]:
    value = _single_line(text, where, "password")
    if any(c not in PASSWORD_ALPHABET for c in value):
        raise _not_kind(where, "password", "characters other than letters and digits")
    return value, None


def _generate_ssh(_length: int) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return private.decode("ascii")


def _read_ssh(text: str, where: str) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_ssh_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise _not_kind(where, "ssh_ed25519", "not an unencrypted OpenSSH private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _not_kind(where, "ssh_ed25519", "an OpenSSH private key of another type than ed25519")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return text if text.endswith("\n") else text + "\n", public.decode("ascii")


def _age_public(secret: bytes) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    key = X25519PrivateKey.from_private_bytes(secret)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return bech32_encode(_AGE_PUBLIC, raw)


def _generate_age(_length: int) -> str:
    secret = secrets.token_bytes(32)
    created = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    identity = bech32_encode(_AGE_SECRET, secret).upper()
    return f"# created: {created}\n# public key: {_age_public(secret)}\n{identity}\n"


def _read_age(text: str, where: str) -> tuple[str, str]:
    identities = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(identities) != 1:
        raise _not_kind(where, "age", f"{len(identities)} identities instead of one")
    secret = bech32_decode(identities[0], _AGE_SECRET)
    if secret is None or len(secret) != 32:
        raise _not_kind(where, "age", "not an AGE-SECRET-KEY-1... identity")
    return identities[0], _age_public(secret)


def _random(encode: Callable[[bytes], str]) -> Callable[[int], str]:
    def generate(length: int) -> str:
        return encode(secrets.token_bytes(length)) + "\n"

    return generate


def _password(length: int) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _position in range(length)) + "\n"


# kind -> (generate(length) -> file text, read(text, where) -> (value, public), whether length applies)
KINDS: dict[str, tuple[Callable[[int], str], Callable[[str, str], tuple[str, Any]], bool]] = {
    "base64": (_random(lambda data: base64.b64encode(data).decode("ascii")), _read_base64, True),
    "hex": (_random(bytes.hex), _read_hex, True),
    "password": (_password, _read_password, True),
    "ssh_ed25519": (_generate_ssh, _read_ssh, False),
    "age": (_generate_age, _read_age, False),
}
