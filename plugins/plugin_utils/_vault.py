# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""ansible-vault on the controller for the action plugins: which secret encrypts, which ones decrypt."""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import VaultLib, get_file_vault_secret, match_encrypt_secret
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.files import SecretsError

try:  # ansible-core 2.19+
    from ansible.parsing.vault import VaultSecretsContext
except ImportError:  # pragma: no cover
    VaultSecretsContext = None


class VaultCodec:
    """Encrypts with one vault secret, decrypts with any of the known ones."""

    name = "ansible-vault"

    def __init__(self, secrets: list[tuple[str, Any]], encrypt_with: tuple[str, Any] | None, problem: str | None):
        self.secrets = secrets
        self.encrypt_with = encrypt_with
        self.problem = problem

    def can_encrypt(self) -> str | None:
        if self.encrypt_with is not None:
            return None
        return self.problem or (
            "encrypt=true needs a vault password: run the playbook with --vault-id, --vault-password-file or "
            "--ask-vault-pass, give vault_password_file, or set encrypt=false"
        )

    def encrypt(self, data: bytes) -> bytes:
        if self.encrypt_with is None:
            raise SecretsError(self.can_encrypt() or "no vault secret")
        vault_id, secret = self.encrypt_with
        label = vault_id if vault_id and vault_id != "default" else None
        return to_bytes(VaultLib().encrypt(data, secret, vault_id=label))

    def decrypt(self, data: bytes, where: str) -> bytes:
        if not self.secrets:
            raise SecretsError(
                f"{where} is encrypted with ansible-vault and no vault password is known: run the playbook with "
                "--vault-id, --vault-password-file or --ask-vault-pass, or give vault_password_file"
            )
        try:
            return to_bytes(VaultLib(self.secrets).decrypt(data))
        except AnsibleError as exc:
            raise SecretsError(f"cannot decrypt {where} with the vault passwords given: {to_text(exc)}") from exc


def playbook_secrets(loader: Any) -> list[tuple[str, Any]]:
    """The vault secrets the playbook runs with (--vault-id, --vault-password-file, --ask-vault-pass)."""
    context = VaultSecretsContext.current(optional=True) if VaultSecretsContext else None
    if context is not None and context.secrets:
        return list(context.secrets)
    vault = getattr(loader, "_vault", None)
    return list(getattr(vault, "secrets", None) or [])


def vault_codec(loader: Any, params: dict[str, Any]) -> VaultCodec:
    """The codec for ``vault_password_file``/``vault_id`` when given, else for the playbook's vault secrets."""
    vault_id = params.get("vault_id")
    if params.get("vault_password_file"):
        filename = os.path.expanduser(params["vault_password_file"])
        secret = get_file_vault_secret(filename=filename, vault_id=vault_id, loader=loader)
        secret.load()
        mine = (vault_id or "default", secret)
        return VaultCodec([mine], mine, None)
    secrets = playbook_secrets(loader)
    try:
        chosen = match_encrypt_secret(secrets, vault_id) if secrets else None
    except AnsibleError as exc:
        return VaultCodec(secrets, None, f"vault_id {vault_id!r}: {to_text(exc)}")
    return VaultCodec(secrets, chosen, None)
