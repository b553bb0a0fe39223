# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The sops_files module's decisions, pure: which inputs are valid, whether a file already holds what is wanted,
and what may be shown of a Secret (key names, never values).

A Secret's plaintext is read the way sops (go-yaml v3) reads it, so that the text sops decrypts and the text the
caller gives compare equal when they mean the same: only ``true``/``false`` are booleans (``yes``, ``on`` stay
strings), ``12:30`` is a string, integers may be written ``0x..``, ``0o..`` or with a leading 0, and dates are
compared as instants. Nothing here puts a value of a Secret into a message: errors and diffs name keys and paths.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.kinds import bech32_decode, bech32_encode

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    HAS_YAML = False
else:
    HAS_YAML = True

DEFAULT_REGEX = "^(data|stringData)$"
SECRET_FIELDS = ("data", "stringData")
ENCRYPTED_PREFIX = "ENC[AES256_GCM,"
SCRATCH_PREFIX = ".talosforge-scratch-"
# sops metadata that would change what is encrypted, or add keys beside the age recipients.
_OTHER_KEYS = ("kms", "gcp_kms", "azure_kv", "hc_vault", "hckms", "pgp", "key_groups")
_OTHER_RULES = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_comment_regex",
                "unencrypted_comment_regex", "mac_only_encrypted")  # fmt: skip
_PLUGIN_RECIPIENT = re.compile(r"age1[a-z0-9]+1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}")


class SopsInputError(InputError):
    """An input of sops_files is wrong; nothing was written. The message names paths and keys, never values."""


# --- YAML as sops reads it ---------------------------------------------------------------------------------------

if HAS_YAML:

    class GoYamlLoader(yaml.SafeLoader):
        """SafeLoader with go-yaml v3's plain scalars (YAML 1.2 core) instead of YAML 1.1's."""

    GoYamlLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag.rsplit(":", 1)[-1] not in ("bool", "int", "float")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    GoYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    GoYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$"),
        list("-+0123456789"),
    )
    GoYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
            r"|\.(?:nan|NaN|NAN))$"
        ),  # fmt: skip
        list("-+0123456789."),
    )

    def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
        text = str(loader.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith(("0x", "0o", "0b")):
            return sign * int(digits, 0)
        if len(digits) > 1 and digits.startswith("0"):
            return sign * int(digits, 8)
        return sign * int(digits)

    GoYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_one(text: str, where: str) -> Any:
    """The one YAML document of ``text``; the error names the line, never the text."""
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=GoYamlLoader) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise SopsInputError(f"{where}: the content is not valid YAML{at} ({problem})") from None
    if len(documents) != 1:
        raise SopsInputError(f"{where}: the content must be one YAML document (one Secret), it holds {len(documents)}")
    return documents[0]


def normal(value: Any) -> Any:
    """``value`` with dates as UTC instants (sops writes a date as a timestamp), for ``same``."""
    if isinstance(value, dict):
        return {str(key): normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normal(item) for item in value]
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return ("timestamp", moment.astimezone(datetime.UTC).isoformat())
    if isinstance(value, datetime.date):
        return ("timestamp", datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.UTC).isoformat())
    return value


def same(left: Any, right: Any) -> bool:
    """Equal as data, where (unlike ``==``) ``true`` is not ``1``. Numbers compare by value: sops writes the float
    ``1e3`` back as ``1000``."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    numbers = (int, float)
    if (
        isinstance(left, numbers)
        and isinstance(right, numbers)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    ):
        return left == right
    return type(left) is type(right) and left == right


# --- inputs ------------------------------------------------------------------------------------------------------


@dataclass
class WantedFile:
    """One Secret to keep encrypted at ``path`` (relative to dest)."""

    path: str
    text: str
    data: Any
    secrets: list[str] = field(default_factory=list)


def clean_path(path: Any, where: str) -> str:
    """A path relative to dest with ``/`` separators; refused when it could leave dest."""
    if not isinstance(path, str) or not path.strip("/"):
        raise SopsInputError(f"{where}: path {path!r} is empty")
    if path.startswith("/") or "\\" in path:
        raise SopsInputError(f"{where}: path {path!r} must be relative to dest, with / separators")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise SopsInputError(f"{where}: path {path!r} escapes dest ('.' and '..' are not allowed)")
    if any(ord(char) < 32 or char == "\x7f" for char in path):
        raise SopsInputError(f"{where}: path {path!r} holds control characters")
    if any(part.startswith(SCRATCH_PREFIX) for part in parts):
        raise SopsInputError(f"{where}: path {path!r}: names starting with {SCRATCH_PREFIX} are the module's own")
    return "/".join(parts)


def check_regex(regex: str) -> str:
    """The encrypted_regex; it must select ``data`` and ``stringData``, or a Secret would be committed in clear."""
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise SopsInputError(f"encrypted_regex {regex!r} is not a regular expression: {exc}") from None
    missing = [name for name in SECRET_FIELDS if not compiled.search(name)]
    if missing:
        raise SopsInputError(f"encrypted_regex {regex!r} does not select {' and '.join(missing)}: the Secret's "
                             "values would be committed in clear. Keep the default ^(data|stringData)$")  # fmt: skip
    return regex


def secret_values(document: Mapping[str, Any], regex: str) -> list[str]:
    """Every value a message must never show: the leaves under the encrypted keys, and data's decoded values."""
    compiled = re.compile(regex)
    found: list[str] = []
    for key, value in document.items():
        if compiled.search(str(key)):
            found += [str(leaf) for _path, leaf in leaves(value)]
    for value in (document.get("data") or {}).values() if isinstance(document.get("data"), dict) else []:
        try:
            decoded = base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        found.append(decoded)
    return sorted({value for value in found if len(value) >= 3}, key=len, reverse=True)


def wanted_files(files: Iterable[Any], regex: str) -> list[WantedFile]:
    """The listed files, checked: paths inside dest and distinct, each content one Secret (a mapping)."""
    wanted: dict[str, WantedFile] = {}
    for index, item in enumerate(files):
        where = f"files[{index}]"
        if not isinstance(item, Mapping):
            raise SopsInputError(f"{where}: give a mapping with path and content")
        path = clean_path(item.get("path"), where)
        where = f"files[{index}] ({path})"
        text = item.get("content")
        if not isinstance(text, str):
            raise SopsInputError(f"{where}: content must be the text of a Secret manifest")
        document = load_one(text, where)
        if not isinstance(document, dict):
            raise SopsInputError(f"{where}: the content must be a YAML mapping (a Secret manifest)")
        if document.get("kind") != "Secret":
            raise SopsInputError(
                f"{where}: the content must be a Secret (kind: Secret), not kind {document.get('kind')!r}"
            )
        for name in SECRET_FIELDS:
            if document.get(name) is not None and not isinstance(document[name], dict):
                raise SopsInputError(f"{where}: {name} must be a mapping of key to value")
        if path in wanted:
            raise SopsInputError(f"{where}: path {path!r} is listed twice")
        wanted[path] = WantedFile(path, text, normal(document), secret_values(document, regex))
    for path in wanted:
        clash = next((other for other in wanted if other.startswith(path + "/")), None)
        if clash:
            raise SopsInputError(f"path {path!r} is also the folder of path {clash!r}")
    return list(wanted.values())


def check_recipients(recipients: Iterable[Any]) -> list[str]:
    """The age recipients (``age1...``), without duplicates, in the order given."""
    found: list[str] = []
    for recipient in recipients:
        text = recipient.strip() if isinstance(recipient, str) else ""
        x25519 = bech32_decode(text, "age") if text.startswith("age1") else None
        if not (x25519 is not None and len(x25519) == 32) and not _PLUGIN_RECIPIENT.fullmatch(text):
            raise SopsInputError(f"age_recipients: {recipient!r} is not an age recipient (age1...)")
        if text not in found:
            found.append(text)
    if not found:
        raise SopsInputError("age_recipients is empty: give the age public key(s) (age1...) to encrypt for")
    return found


def identity_of(age_key: Any) -> tuple[str, str]:
    """(the identity line, its recipient) of an age key given as its ``AGE-SECRET-KEY-1...`` line or as the text
    ``age-keygen`` writes (comments allowed); the message never holds the key."""
    lines = [line.strip() for line in str(age_key or "").splitlines()]
    identities = [line for line in lines if line and not line.startswith("#")]
    secret = bech32_decode(identities[0], "age-secret-key-") if len(identities) == 1 else None
    if secret is None or len(secret) != 32 or not identities[0].startswith("AGE-SECRET-KEY-1"):
        raise SopsInputError("age_key is not one age identity (AGE-SECRET-KEY-1..., as age-keygen or vault_secret "
                             "kind=age writes it)")  # fmt: skip
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    except ImportError:  # pragma: no cover - cryptography ships with ansible-core
        raise SopsInputError("the Python package cryptography is required (it comes with ansible-core)") from None

    public = X25519PrivateKey.from_private_bytes(secret).public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return identities[0], bech32_encode("age", raw)


# --- what is in dest ----------------------------------------------------------------------------------------------


def sops_metadata(ciphertext: str) -> dict[str, Any] | None:
    """The ``sops`` mapping of an encrypted YAML file; None when the text is not one."""
    try:
        document = yaml.safe_load(ciphertext)
    except yaml.YAMLError:
        return None
    meta = document.get("sops") if isinstance(document, dict) else None
    return meta if isinstance(meta, dict) else None


def age_recipients_of(meta: Mapping[str, Any]) -> list[str]:
    return sorted(str(entry.get("recipient")) for entry in meta.get("age") or [] if isinstance(entry, dict))


def metadata_differs(meta: Mapping[str, Any], recipients: Iterable[str], regex: str) -> str | None:
    """Why a file's sops metadata is not what would be written now (None when it is)."""
    if set(age_recipients_of(meta)) != set(recipients):
        return "recipients"
    if any(meta.get(name) for name in _OTHER_KEYS):
        return "recipients"
    if meta.get("encrypted_regex") != regex or any(meta.get(name) for name in _OTHER_RULES):
        return "encrypted_regex"
    return None


def all_encrypted(ciphertext: str) -> bool:
    """Whether every value under data and stringData of an encrypted file is sops ciphertext (or empty)."""
    try:
        document = yaml.safe_load(ciphertext)
    except yaml.YAMLError:
        return False
    if not isinstance(document, dict) or not isinstance(document.get("sops"), dict):
        return False
    for name in SECRET_FIELDS:
        for _path, leaf in leaves(document.get(name) or {}):
            if leaf not in ("", None) and not str(leaf).startswith(ENCRYPTED_PREFIX):
                return False
    return True


# --- what may be shown --------------------------------------------------------------------------------------------


def leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) of every scalar under ``value``."""
    if isinstance(value, dict):
        found: list[tuple[str, Any]] = []
        for key in sorted(value, key=str):
            found += leaves(value[key], f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(value, (list, tuple)) and not (len(value) == 2 and value[0] == "timestamp"):
        found = []
        for index, item in enumerate(value):
            found += leaves(item, f"{prefix}[{index}]")
        return found
    return [(prefix, value)]


def changed_keys(before: Any, after: Any) -> list[str]:
    """The dotted paths whose values differ between two Secrets (added and removed ones too); sorted."""
    old, new = dict(leaves(before)), dict(leaves(after))
    return sorted(
        path for path in set(old) | set(new) if path not in old or path not in new or not same(old[path], new[path])
    )


def shown(document: Any, regex: str, before: Any = None) -> str:
    """A Secret as a diff may show it: one line per key, its value replaced by a marker that says, when ``before``
    is given, whether the value was added or changed."""
    compiled = re.compile(regex)
    old = dict(leaves(before)) if before is not None else None
    lines = []
    for path, value in leaves(document):
        kind = "encrypted" if compiled.search(path.split(".", 1)[0].split("[", 1)[0]) else "value"
        note = ""
        if old is not None:
            note = ", added" if path not in old else "" if same(old[path], value) else ", changed"
        lines.append(f"{path}: <{kind}{note}>")
    return "\n".join(lines) + "\n" if lines else ""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced (longest first)."""
    for value in secrets:
        if value:
            text = text.replace(value, "********")
    return text
