# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of talosforge.cluster.vault_secret: the whole task runs on the controller, where ansible-vault is.

The secret is generated, encrypted with the vault codec talos_secrets uses (plugin_utils/_vault.py) and written
0600 by module_utils/_vault/secret.py. The result carries the secret, so it is marked no_log: the callbacks show
it censored, while a registered variable holds the value.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import TalosforgeError
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.secret import argument_spec, keep_secret
from ansible_collections.talosforge.cluster.plugins.plugin_utils._vault import vault_codec


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        params = self.validate_argument_spec(argument_spec=argument_spec())[1]
        try:
            outcome = keep_secret(params, self._task.check_mode, vault_codec(self._loader, params))
        except TalosforgeError as exc:  # the module's failure shape (docs/failures.md)
            result.update(failed=True, msg=str(exc), **exc.fail_fields())
            return result
        except AnsibleError as exc:
            result.update(failed=True, msg=to_text(exc))
            return result
        if not self._task.diff:
            outcome.pop("diff", None)
        result.update(outcome)
        result["_ansible_no_log"] = True
        return result
