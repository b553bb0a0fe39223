# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven: every invalid definition reports what its ``expect:`` list says, every valid one has no error.

The fixture format is described in tests/unit/fixtures/definitions/README.md. The example inventories under
inventories/ are valid definitions too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import format_issues, load_cluster

REPO = Path(__file__).resolve().parents[4]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "definitions"
INVALID = sorted((FIXTURES / "invalid").glob("*.yml"))
VALID = sorted((FIXTURES / "valid").glob("*.yml"))
INVENTORIES = sorted((REPO / "inventories").glob("*/cluster.talosforge.yml"))
# The sandbox inventories (sandbox, sandbox-hcloud, ...) belong to the sandbox tooling; the others are the documented
# examples.
EXAMPLES = [path for path in INVENTORIES if path.parent.name.partition("-")[0] != "sandbox"]


def _read(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _matches(issue, expected: dict) -> bool:
    return (
        issue.path == expected["path"]
        and issue.level == expected.get("level", "error")
        and expected["message"].lower() in issue.message.lower()
    )


def _check_expectations(fixture: dict, issues: list) -> None:
    missing = [e for e in fixture.get("expect") or [] if not any(_matches(i, e) for i in issues)]
    assert not missing, f"not reported: {missing}\n{format_issues(issues)}"


def test_there_are_enough_fixtures():
    assert len(INVALID) >= 30
    assert len(VALID) + len(INVENTORIES) >= 8
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_definition_reports_expected_issues(path: Path):
    fixture = _read(path)
    assert fixture.get("expect"), f"{path.name} has no expect: list"
    cluster, issues = load_cluster(fixture["cluster"])
    assert any(issue.is_error for issue in issues)
    _check_expectations(fixture, issues)
    for issue in issues:
        assert issue.path and issue.message and issue.fix, issue
        assert str(issue).startswith(f"{issue.path}: ")
        assert ". Fix: " in str(issue)
    if cluster is not None:
        json.dumps(cluster.to_dict())


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_definition_has_no_error(path: Path):
    fixture = _read(path)
    cluster, issues = load_cluster(fixture["cluster"])
    errors = [issue for issue in issues if issue.is_error]
    assert not errors, format_issues(issues)
    _check_expectations(fixture, issues)
    json.dumps(cluster.to_dict())


@pytest.mark.parametrize("path", INVENTORIES, ids=[p.parent.name for p in INVENTORIES])
def test_example_inventory_is_valid(path: Path):
    document = _read(path)
    assert document.pop("plugin") == "talosforge.cluster.cluster"
    assert set(document) == {"cluster"}
    cluster, issues = load_cluster(document["cluster"])
    assert not [issue for issue in issues if issue.is_error], format_issues(issues)
    model = cluster.to_dict()
    json.dumps(model)
    assert model["node_groups"]["controlplane"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_example_inventory_has_readme_and_vault_example(path: Path):
    assert (path.parent / "README.md").is_file()
    vault = path.parent / "group_vars" / "all" / "vault.example.yml"
    assert vault.is_file()
    # Ansible loads every file in group_vars/all/: the example must define nothing until it is copied.
    assert _read(vault) is None
