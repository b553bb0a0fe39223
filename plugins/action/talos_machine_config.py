# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of talosforge.cluster.talos_machine_config: hands the module a readable secrets bundle.

When ``secrets_file`` is encrypted with ansible-vault, it is decrypted on the controller (with ``vault_password_file``
when given, else with the playbook's vault passwords) into a private temporary file (mode 0600), the module runs
with that file, and the file is removed afterwards. A plain bundle is passed through unchanged. The module does
everything else.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.secrets import SecretsError
from ansible_collections.talosforge.cluster.plugins.plugin_utils._vault import vault_codec

VAULT_HEADER = b"$ANSIBLE_VAULT;"


def is_vault_file(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(VAULT_HEADER) + 64).lstrip().startswith(VAULT_HEADER)
    except OSError:
        return False


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        decrypted = None
        source = args.get("secrets_file")
        try:
            if isinstance(source, str) and is_vault_file(os.path.expanduser(source)):
                try:
                    decrypted = self._decrypted_copy(os.path.expanduser(source), args)
                except (AnsibleError, SecretsError, OSError) as exc:
                    result.update(failed=True, msg=f"cannot decrypt the secrets bundle {source}: {to_text(exc)}")
                    return result
                args["secrets_file"] = decrypted
            args.pop("vault_password_file", None)
            args.pop("vault_id", None)
            result.update(
                self._execute_module(
                    module_name="talosforge.cluster.talos_machine_config", module_args=args, task_vars=task_vars
                )
            )
        finally:
            if decrypted:
                os.unlink(decrypted)
        return result

    def _decrypted_copy(self, path: str, args: dict[str, Any]) -> str:
        """The bundle decrypted into a new 0600 temporary file; the caller removes it."""
        codec = vault_codec(self._loader, {key: args.get(key) for key in ("vault_password_file", "vault_id")})
        with open(path, "rb") as handle:
            plain = codec.decrypt(handle.read(), path)
        descriptor, name = tempfile.mkstemp(prefix="talosforge-secrets-", suffix=".yaml")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(plain)
        return name
