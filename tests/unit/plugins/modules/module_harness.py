# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module test needs: run a module's main() with arguments, and hold its argument spec to its docs.

from module_harness import check_documentation, run_module

result = run_module(module, {"name": "x", "_ansible_check_mode": True}, capsys)
check_documentation(module, ModuleDocFragment)
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args


def run_module(module: ModuleType, args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The JSON result of ``module.main()`` run with ``args`` (exit_json and fail_json both end in SystemExit)."""
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def documented_options(module: ModuleType, *fragments: type) -> dict[str, Any]:
    """The options of DOCUMENTATION plus those of the doc fragment classes it extends."""
    options = dict(yaml.safe_load(module.DOCUMENTATION).get("options") or {})
    for fragment in fragments:
        options.update(yaml.safe_load(fragment.DOCUMENTATION)["options"])
    return options


def check_options(docs: dict[str, Any], spec: dict[str, Any], where: str = "") -> None:
    """Same names, and per option the same type, default, required, choices and elements (suboptions too)."""
    assert set(docs) == set(spec), f"{where}documented {sorted(set(docs) - set(spec))}, not in spec " + str(
        sorted(set(spec) - set(docs))
    )
    for name, option in spec.items():
        doc = docs[name]
        label = f"{where}{name}"
        assert doc.get("type", "str") == option.get("type", "str"), label
        assert doc.get("default") == option.get("default"), label
        assert bool(doc.get("required")) == bool(option.get("required")), label
        assert doc.get("choices") == option.get("choices"), label
        assert doc.get("elements") == option.get("elements"), label
        if "options" in option:
            check_options(doc.get("suboptions") or {}, option["options"], f"{label}.")


def check_documentation(module: ModuleType, *fragments: type) -> dict[str, Any]:
    """The argument spec matches DOCUMENTATION (+ fragments); EXAMPLES and RETURN are YAML. Returns the spec."""
    spec = module.argument_spec()
    check_options(documented_options(module, *fragments), spec)
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)
    return spec
