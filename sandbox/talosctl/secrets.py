"""The secrets bundle of ``talosctl gen secrets``: generate, write, load and check it."""

from __future__ import annotations

import base64
import secrets as random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import pki, yamlio

_TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def token() -> str:
    """A kubeadm/trustd style token ``abcdef.0123456789abcdef``."""
    return (
        "".join(random.choice(_TOKEN_ALPHABET) for _unused in range(6))
        + "."
        + "".join(random.choice(_TOKEN_ALPHABET) for _unused in range(16))
    )


class SecretsError(ValueError):
    """A secrets bundle that cannot be read or is incomplete (the message is talosctl's)."""


@dataclass
class Bundle:
    """A secrets bundle as Talos keeps it (certificates and keys as PEM)."""

    cluster_id: str
    cluster_secret: str
    bootstrap_token: str
    secretbox_secret: str
    trustd_token: str
    etcd: pki.CertAndKey
    k8s: pki.CertAndKey
    k8s_aggregator: pki.CertAndKey
    service_account_key: bytes
    os: pki.CertAndKey

    def to_yaml(self) -> str:
        return yamlio.dump(
            {
                "cluster": {"id": self.cluster_id, "secret": self.cluster_secret},
                "secrets": {"bootstraptoken": self.bootstrap_token, "secretboxencryptionsecret": self.secretbox_secret},
                "trustdinfo": {"token": self.trustd_token},
                "certs": {
                    "etcd": self.etcd.encoded(),
                    "k8s": self.k8s.encoded(),
                    "k8saggregator": self.k8s_aggregator.encoded(),
                    "k8sserviceaccount": {"key": pki.b64(self.service_account_key)},
                    "os": self.os.encoded(),
                },
            }
        )


def generate() -> Bundle:
    """A new bundle with fresh CAs (see :mod:`pki`) and random tokens and secrets."""
    start = pki.now()
    return Bundle(
        cluster_id=base64.urlsafe_b64encode(random.token_bytes(32)).decode("ascii"),
        cluster_secret=base64.b64encode(random.token_bytes(32)).decode("ascii"),
        bootstrap_token=token(),
        secretbox_secret=base64.b64encode(random.token_bytes(32)).decode("ascii"),
        trustd_token=token(),
        etcd=pki.new_ca("ecdsa", "etcd", start=start),
        k8s=pki.new_ca("ecdsa", "kubernetes", start=start),
        k8s_aggregator=pki.new_ca("ecdsa", None, "front-proxy", start=start),
        service_account_key=pki.key_pem(pki.new_key("ecdsa")),
        os=pki.new_ca("ed25519", "talos", start=start),
    )


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _pair(data: Any, name: str, problems: list[str], with_crt: bool = True) -> pki.CertAndKey | None:
    value = _get(data, "certs", name)
    if not isinstance(value, dict) or not value.get("key") or (with_crt and not value.get("crt")):
        problems.append(f"certs.{name} is required")
        return None
    try:
        crt = pki.unb64(value["crt"]) if with_crt else b""
        key = pki.unb64(value["key"])
        if with_crt:
            pki.load_cert(crt)
        pki.load_key(key)
    except (ValueError, TypeError) as error:
        problems.append(f"certs.{name} is invalid: {error}")
        return None
    return pki.CertAndKey(crt, key)


def load(path: str | Path) -> Bundle:
    """A bundle from a file written by ``gen secrets``; SecretsError with talosctl's wording otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SecretsError(f"failed to load secrets bundle: open {path}: {error.strerror.lower()}") from None
    try:
        data = yamlio.load_one(text, "secrets bundle")
    except yamlio.YAMLError as error:
        raise SecretsError(f"failed to load secrets bundle: {error}") from None
    problems: list[str] = []
    for section, key in (
        ("cluster", "id"),
        ("cluster", "secret"),
        ("secrets", "bootstraptoken"),
        ("trustdinfo", "token"),
    ):
        if not isinstance(data.get(section), dict):
            if f"{section} is required" not in problems:
                problems.append(f"{section} is required")
        elif not _get(data, section, key):
            problems.append(f"{section}.{key} is required")
    if (
        isinstance(data.get("secrets"), dict)
        and not _get(data, "secrets", "secretboxencryptionsecret")
        and not _get(data, "secrets", "aescbcencryptionsecret")
    ):
        problems.append("one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required")
    if not isinstance(data.get("certs"), dict):
        problems.append("certs is required")
        pairs = {}
    else:
        pairs = {
            name: _pair(data, name, problems, name != "k8sserviceaccount")
            for name in ("etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os")
        }
    if problems:
        listed = "".join(f"\t* {problem}\n" for problem in problems)
        count = f"{len(problems)} error{'s' if len(problems) > 1 else ''} occurred"
        raise SecretsError(f"failed to validate secrets bundle: {count}:\n{listed}\n")
    return Bundle(
        cluster_id=str(_get(data, "cluster", "id")),
        cluster_secret=str(_get(data, "cluster", "secret")),
        bootstrap_token=str(_get(data, "secrets", "bootstraptoken")),
        secretbox_secret=str(_get(data, "secrets", "secretboxencryptionsecret") or ""),
        trustd_token=str(_get(data, "trustdinfo", "token")),
        etcd=pairs["etcd"],  # type: ignore[arg-type]
        k8s=pairs["k8s"],  # type: ignore[arg-type]
        k8s_aggregator=pairs["k8saggregator"],  # type: ignore[arg-type]
        service_account_key=pairs["k8sserviceaccount"].key,  # type: ignore[union-attr]
        os=pairs["os"],  # type: ignore[arg-type]
    )
