# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The one way a module of the collection ends: ``run_module(module, work)``.

A module file holds its documentation, ``argument_spec()`` and a ``main()`` that builds the AnsibleModule and
calls ``run_module``; the work lives in module_utils. module_utils import nothing from Ansible (so the logic is
tested without it, and ``env_fallback`` is handed in by the module's ``argument_spec()``): ``module`` is any object
with ``params``, ``check_mode``, ``_diff``, ``exit_json`` and ``fail_json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import TalosforgeError


def run_module(module: Any, work: Callable[[], dict[str, Any]], mask: Callable[[str], str] | None = None) -> None:
    """Run ``work()`` and exit with its result, or fail with the error's message and fields (docs/failures.md).

    ``diff`` is returned only when the user asked for it (``--diff``). ``mask`` hides secrets in a failure message
    (Talos machine configs carry keys). Errors that are not a ``TalosforgeError`` are bugs: they propagate, so
    Ansible shows the traceback.
    """
    try:
        result = work()
    except TalosforgeError as exc:
        message = str(exc)
        module.fail_json(msg=mask(message) if mask else message, **exc.fail_fields())
        return
    if not getattr(module, "_diff", False):
        result.pop("diff", None)
    module.exit_json(**result)
