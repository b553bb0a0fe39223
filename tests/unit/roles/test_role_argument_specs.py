"""Every role documents exactly the variables it defaults (meta/argument_specs.yml mirrors defaults/main.yml), and
every entry point (main, facts, destroy, files, ...) has its tasks file and documents only variables of the role."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = sorted(p for p in (Path(__file__).resolve().parents[3] / "roles").iterdir() if p.is_dir())


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def test_there_are_roles():
    assert ROLES


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_argument_specs_mirror_defaults(role):
    defaults = load(role / "defaults" / "main.yml")
    specs = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(specs), f"{role.name}: defaults and argument_specs differ"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_public_variables_carry_the_role_prefix(role):
    defaults = load(role / "defaults" / "main.yml")
    assert all(name.startswith(f"{role.name}_") for name in defaults), sorted(defaults)


def entry_points(role: Path) -> dict:
    return load(role / "meta" / "argument_specs.yml")["argument_specs"]


ENTRY_POINTS = [(role, name) for role in ROLES for name in entry_points(role)]


@pytest.mark.parametrize(("role", "entry"), ENTRY_POINTS, ids=lambda v: v.name if isinstance(v, Path) else v)
def test_every_entry_point_has_tasks_and_documents_only_role_variables(role, entry):
    spec = entry_points(role)[entry]
    assert (role / "tasks" / f"{entry}.yml").is_file(), f"{role.name}: entry point {entry} has no tasks/{entry}.yml"
    assert spec.get("short_description"), f"{role.name}.{entry}: no short_description"
    defaults = load(role / "defaults" / "main.yml")
    options = spec.get("options") or {}
    assert set(options) <= set(defaults), f"{role.name}.{entry}: documents variables the role does not default"
    for name, option in options.items():
        if "default" in option:
            assert option["default"] == defaults[name], f"{role.name}.{entry}: {name} default differs"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_role_has_a_readme_pointing_at_its_argument_specs(role):
    readme = role / "README.md"
    assert readme.is_file(), f"{role.name}: no README.md"
    assert "meta/argument_specs.yml" in readme.read_text(encoding="utf-8")
