# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""How a Talos node module starts and ends: its shared options (the talos and talos_nodes doc fragments), the
Talosctl built from them, and ``run_node_module``, the one ``main()`` body of the modules that work on nodes.

No Ansible import: a module passes ``env_fallback`` in (``talos_argument_spec``) and the AnsibleModule itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import mask_config
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    BINARY_ENV,
    Runner,
    Talosctl,
    module_runner,
)


def talos_argument_spec(env_fallback: Any) -> dict[str, Any]:
    """The options of the talosforge.cluster.talos doc fragment."""
    return {
        "talosctl": {"type": "path", "fallback": (env_fallback, [BINARY_ENV])},
        "talosconfig": {"type": "path"},
        "timeout": {"type": "float", "default": 300.0},
        "parallel": {"type": "int", "default": 8},
    }


# The keys of a node, as the talos_targets filter writes them; any other key is refused (a misspelt key would
# otherwise be ignored). The talosforge.cluster.talos_nodes doc fragment documents them.
NODE_OPTIONS: dict[str, dict[str, Any]] = {
    "name": {"type": "str"},
    "address": {"type": "str", "required": True},
    "role": {"type": "str"},
    "image": {"type": "str"},
    "config": {"type": "str"},
}


def nodes_argument_spec() -> dict[str, Any]:
    """The ``nodes`` option of every Talos node module (the talosforge.cluster.talos_nodes doc fragment)."""
    return {"type": "list", "elements": "dict", "required": True, "options": NODE_OPTIONS}


def node_module_spec(env_fallback: Any, **options: dict[str, Any]) -> dict[str, Any]:
    """The argument spec of a Talos node module: the talos fragment's options, ``nodes``, then its own ``options``."""
    return {**talos_argument_spec(env_fallback), "nodes": nodes_argument_spec(), **options}


def client_from_params(params: Mapping[str, Any], runner: Runner | None) -> Talosctl:
    """A Talosctl from the fragment's options that runs talosctl through ``runner`` (``module_runner(module)``)."""
    return Talosctl(
        binary=params.get("talosctl"),
        talosconfig=params.get("talosconfig"),
        timeout=float(params.get("timeout") or 300.0),
        runner=runner,
    )


def run_node_module(module: Any, work: Callable[[dict[str, Any], bool, Talosctl], dict[str, Any]]) -> None:
    """``main()`` of a Talos node module: talosctl runs through the module (``run_command``), and the work ends
    through ``run_module`` with machine-config secrets masked in any failure."""
    talosctl = client_from_params(module.params, module_runner(module))
    run_module(module, lambda: work(module.params, module.check_mode, talosctl), mask=mask_config)
