# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The Talos secrets bundle: generate it with talosctl, check that a file is one, write files 0600, rotate.

Pure (no Ansible import): the talos_secrets action plugin (which adds ansible-vault on the controller) and the
talos_secrets module both call these functions. Nothing here returns or logs secret content.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    TalosConfigError,
    load_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.masking import masked_text
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.module_entry import talos_argument_spec
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import LOCAL, Talosctl
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.files import (
    FILE_MODE,
    SecretsError,
    ensure_mode,
    is_vault,
    read_file,
    write_private,
)

# What `talosctl gen secrets` writes and `talosctl gen config --with-secrets` needs (Talos's Bundle.Validate).
_REQUIRED = (
    ("cluster", "id"),
    ("cluster", "secret"),
    ("secrets", "bootstraptoken"),
    ("trustdinfo", "token"),
    ("certs", "etcd", "crt"),
    ("certs", "etcd", "key"),
    ("certs", "k8s", "crt"),
    ("certs", "k8s", "key"),
    ("certs", "k8saggregator", "crt"),
    ("certs", "k8saggregator", "key"),
    ("certs", "k8sserviceaccount", "key"),
    ("certs", "os", "crt"),
    ("certs", "os", "key"),
)
_ENCRYPTION_SECRETS = ("secretboxencryptionsecret", "aescbcencryptionsecret")


def bundle_problems(data: Any) -> list[str]:
    """What keeps ``data`` (the parsed YAML) from being a Talos secrets bundle; empty when it is one."""
    if not isinstance(data, dict):
        return ["the file is not a YAML mapping"]
    problems = []
    for path in _REQUIRED:
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, str) or not node:
            problems.append(f"{'.'.join(path)} is missing or empty")
    given = data.get("secrets")
    secrets = given if isinstance(given, dict) else {}
    present = [name for name in _ENCRYPTION_SECRETS if secrets.get(name)]
    if len(present) != 1:
        problems.append(f"exactly one of secrets.{' and secrets.'.join(_ENCRYPTION_SECRETS)} must be set")
    return problems


def check_bundle(text: bytes | str, where: str) -> None:
    """Raise SecretsError when ``text`` is not a Talos secrets bundle (YAML)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SecretsError(f"{where} is not a Talos secrets bundle: it is not UTF-8 text") from exc
    try:
        docs = load_documents(text, where)
    except TalosConfigError as exc:
        raise SecretsError(f"{where} is not a Talos secrets bundle: it is not valid YAML") from exc
    problems = bundle_problems(docs[0] if len(docs) == 1 else None)
    if problems:
        raise SecretsError(
            f"{where} is not a Talos secrets bundle: {'; '.join(problems)}. Move it away, or point path at the "
            "bundle that talosctl gen secrets wrote"
        )


def backup_path(path: str, now: datetime.datetime | None = None) -> str:
    """``<path>.<UTC timestamp>.bak``, made unique with a counter when taken."""
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
    candidate = f"{path}.{stamp}.bak"
    number = 1
    while os.path.exists(candidate):
        number += 1
        candidate = f"{path}.{stamp}.{number}.bak"
    return candidate


def backup(path: str) -> str:
    """Copy ``path`` to a timestamped 0600 backup next to it; return the backup's path."""
    target = backup_path(path)
    try:
        with open(path, "rb") as source:
            write_private(target, source.read())
    except OSError as exc:
        raise SecretsError(f"cannot back up {path}: {exc.strerror}") from exc
    return target


def generate(talosctl: Talosctl, talos_version: str | None = None, where: str = ".") -> bytes:
    """A new bundle from ``talosctl gen secrets``, written in a scratch folder inside ``where`` (the bundle's own
    private folder, never the system temp folder) and read back."""
    folder = scratch.scratch_dir(where, "secrets")
    try:
        target = os.path.join(folder, "secrets.yaml")
        args = ["gen", "secrets", "--output-file", target]
        if talos_version:
            args += ["--talos-version", talos_version]
        talosctl.run(args, LOCAL)
        data = read_file(target)
        check_bundle(data, "the bundle talosctl gen secrets wrote")
        return data
    finally:
        scratch.remove(folder)


# --------------------------------------------------------------------------------------------------------------
# Which cluster a bundle belongs to: a record next to it (the bundle itself stays what talosctl reads)
# --------------------------------------------------------------------------------------------------------------


def record_path(path: str) -> str:
    """``<bundle>.cluster``: a small YAML file ``cluster: <name>`` naming the cluster the bundle was made for."""
    return f"{path}.cluster"


def stat_mode(path: str) -> int:
    return os.stat(path).st_mode & 0o777


def recorded_cluster(path: str) -> str | None:
    """The cluster named by the record of the bundle at ``path``; None when there is no record."""
    record = record_path(path)
    if not os.path.exists(record):
        return None
    try:
        docs = load_documents(read_file(record).decode("utf-8"), record)
    except (TalosConfigError, UnicodeDecodeError) as exc:
        raise SecretsError(f"{record} (the record of which cluster {path} belongs to) is not valid YAML") from exc
    name = docs[0].get("cluster") if len(docs) == 1 and isinstance(docs[0], dict) else None
    if not isinstance(name, str) or not name:
        raise SecretsError(f"{record} must hold 'cluster: <name>', the cluster the secrets bundle {path} belongs to")
    return name


def claim_bundle(path: str, cluster_name: str, check_mode: bool) -> str | None:
    """Refuse the bundle at ``path`` when its record names another cluster; a bundle without a record (made before
    records existed) is adopted for ``cluster_name``. Returns a message when it adopted (or would adopt) it."""
    recorded = recorded_cluster(path)
    if recorded == cluster_name:
        return None
    if recorded is not None:
        raise SecretsError(
            f"the secrets bundle {path} belongs to cluster {recorded!r} (recorded in {record_path(path)}), not to "
            f"cluster {cluster_name!r}: two clusters must not share one bundle (same CAs and tokens). Give cluster "
            f"{cluster_name!r} its own output folder (talos_output_dir, or talos_files in its definition)"
        )
    if not check_mode:
        write_record(path, cluster_name)
    return f"recorded that the secrets bundle {path} belongs to cluster {cluster_name!r}"


def write_record(path: str, cluster_name: str) -> None:
    write_private(record_path(path), f"cluster: {json.dumps(cluster_name)}\n".encode())


# --------------------------------------------------------------------------------------------------------------
# The whole task: keep one bundle at ``path``
# --------------------------------------------------------------------------------------------------------------


class NoVault:
    """The codec of the module alone: it can neither read nor write ansible-vault files."""

    name = "none"

    def can_encrypt(self) -> str | None:
        return (
            "encrypt=true needs ansible-vault, which the talos_secrets action plugin adds on the controller: run "
            "talosforge.cluster.talos_secrets as a task (not through a raw module call), or set encrypt=false"
        )

    def encrypt(self, data: bytes) -> bytes:
        raise SecretsError(self.can_encrypt() or "cannot encrypt")

    def decrypt(self, data: bytes, where: str) -> bytes:
        raise SecretsError(
            f"{where} is encrypted with ansible-vault, which only the talos_secrets action plugin can read: run "
            "talosforge.cluster.talos_secrets as a task, with the vault password"
        )


def argument_spec(env_fallback: Any) -> dict[str, Any]:
    """The options of talos_secrets, for the module and its action plugin: the talos doc fragment's, then its own."""
    return {
        **talos_argument_spec(env_fallback),
        "path": {"type": "path", "required": True},
        "cluster_name": {"type": "str"},
        "rotate": {"type": "bool", "default": False},
        "talos_version": {"type": "str"},
        "encrypt": {"type": "bool", "default": True},
        "vault_id": {"type": "str", "no_log": False},
        "vault_password_file": {"type": "path", "no_log": False},
    }


def _masked(data: bytes) -> str:
    return masked_text(load_documents(data.decode("utf-8")))


def ensure_bundle(params: dict[str, Any], check_mode: bool, codec: Any, talosctl: Talosctl) -> dict[str, Any]:
    """Create the bundle at ``path`` unless it exists (then only check it), or replace it when ``rotate``.

    ``codec`` encrypts and decrypts with ansible-vault (``NoVault`` when that is not available). Raises
    SecretsError or TalosctlError. The result never holds secret content; its diff is masked.
    """
    path = os.path.abspath(os.path.expanduser(params["path"]))
    encrypt = bool(params.get("encrypt"))
    result: dict[str, Any] = {"changed": False, "path": path, "created": False, "rotated": False}
    if not check_mode:
        scratch.sweep(os.path.dirname(path))
    name = params.get("cluster_name")
    adopted = claim_bundle(path, name, True) if name and os.path.isfile(path) else None  # refuse before any write
    old: bytes | None = None
    was_encrypted = False
    if os.path.exists(path):
        if os.path.isdir(path):
            raise SecretsError(f"{path} is a directory: path names the bundle file, for example {path}/secrets.yaml")
        stored = read_file(path)
        was_encrypted = is_vault(stored)
        old = codec.decrypt(stored, path) if was_encrypted else stored
        check_bundle(old, path)
    if old is not None and not params.get("rotate"):
        result = _keep(result, path, old, was_encrypted, encrypt, check_mode, codec)
        if adopted and name:
            result.update(changed=True, msg=adopted if not check_mode else f"would have {adopted}")
            if not check_mode:
                write_record(path, name)
        return result
    if encrypt and codec.can_encrypt():
        raise SecretsError(codec.can_encrypt())
    result.update(changed=True, created=old is None, rotated=old is not None, encrypted=encrypt)
    if check_mode:
        result["msg"] = f"would {'rotate' if old is not None else 'create'} the secrets bundle {path}"
        return result
    new = generate(talosctl, params.get("talos_version"), os.path.dirname(path))
    if old is not None:
        result["backup"] = backup(path)
    write_private(path, codec.encrypt(new) if encrypt else new)
    if name:
        write_record(path, name)
    result["diff"] = {
        "before": _masked(old) if old is not None else "",
        "after": _masked(new),
        "before_header": path if old is not None else f"{path} (absent)",
        "after_header": path + (" (encrypted with ansible-vault)" if encrypt else ""),
    }
    return result


def _keep(
    result: dict[str, Any], path: str, plain: bytes, was_encrypted: bool, encrypt: bool, check_mode: bool, codec: Any
) -> dict[str, Any]:
    """An existing, valid bundle: encrypt it when asked and it is not yet, and make it 0600."""
    result["encrypted"] = was_encrypted
    if encrypt and not was_encrypted:
        if codec.can_encrypt():
            raise SecretsError(codec.can_encrypt())
        result.update(changed=True, encrypted=True, msg=f"encrypted the existing secrets bundle {path}")
        if not check_mode:
            write_private(path, codec.encrypt(plain))
        return result
    if not check_mode:
        result["changed"] = ensure_mode(path)
    elif os.stat(path).st_mode & 0o777 != FILE_MODE:
        result["changed"] = True
    return result


def keep_secrets_bundle(
    params: dict[str, Any], check_mode: bool, talosctl: Talosctl, codec: Any = None
) -> dict[str, Any]:
    """The talos_secrets module without ansible-vault (its action plugin passes a vault ``codec``): ``ensure_bundle``
    and the talosctl command lines it ran."""
    result = ensure_bundle(params, check_mode, codec or NoVault(), talosctl)
    result["commands"] = talosctl.commands()
    return result
