"""The shape of the collection's Python, held by tests so that it does not drift (issue 12, docs/failures.md).

- no file in plugins/ longer than 400 lines;
- a module file is documentation, an argument spec and a main() that hands over to module_utils: at most about
  80 lines of code outside its DOCUMENTATION, EXAMPLES and RETURN blocks, ending through ``run_module``;
- in each module_utils package, ``*_plan.py`` files decide and talk to no API: they import no ``client``;
- no ``__init__.py`` (ansible-test's empty-init rule, and the packages are namespace packages);
- every public exception class in module_utils descends from the three bases of ``_errors.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
MODULES = sorted((PLUGINS / "modules").glob("*.py"))
MODULE_UTILS = PLUGINS / "module_utils"
MAX_FILE_LINES = 400
MAX_MODULE_CODE_LINES = 80
DOC_BLOCKS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}


def code_lines(path: Path) -> int:
    """Lines holding code: not blank, not a comment, not inside a documentation block or a docstring."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        docs = isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in DOC_BLOCKS for target in node.targets
        )
        docstring = (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        )
        if docs or docstring:
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return sum(
        1
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if number not in skipped and line.strip() and not line.strip().startswith("#")
    )


@pytest.mark.parametrize("path", sorted(PLUGINS.rglob("*.py")), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_no_file_is_longer_than_the_limit(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_FILE_LINES, f"{path.relative_to(PLUGINS)} has {lines} lines: split it by what its parts do"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_module_files_are_thin(path: Path) -> None:
    count = code_lines(path)
    assert count <= MAX_MODULE_CODE_LINES, f"{path.name}: {count} lines of code; move the logic to module_utils"
    assert re.search(r"\brun_(node_)?module\(", path.read_text()), f"{path.name} must end through run_module"


def test_plans_import_no_client() -> None:
    offenders = []
    for path in MODULE_UTILS.rglob("*_plan.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "client":
                offenders.append(f"{path.relative_to(PLUGINS)}:{node.lineno}")
    assert offenders == []


def test_no_init_files() -> None:
    assert sorted(str(p.relative_to(PLUGINS)) for p in PLUGINS.rglob("__init__.py")) == []


def test_every_error_class_descends_from_the_model() -> None:
    roots = {"TalosforgeError", "InputError", "ApiError", "PartialFailure"}
    classes: dict[str, list[str]] = {}
    for path in MODULE_UTILS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                classes[node.name] = [base.id for base in node.bases if isinstance(base, ast.Name)]

    def descends(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in roots:
            return True
        return any(descends(base, seen | {name}) for base in classes.get(name, []) if base not in seen)

    errors = [
        name
        for name, bases in classes.items()
        if not name.startswith("_")  # a private signal that never leaves its file
        and (name.endswith(("Error", "Failed", "Failure")) or "Exception" in bases)
        and not descends(name)
    ]
    assert sorted(errors) == []


def test_the_readme_lists_every_module_utils_file() -> None:
    """The README's "Where the code is" listing names every file of plugins/module_utils (by its name)."""
    readme = (PLUGINS.parent / "README.md").read_text()
    listing = readme[readme.index("plugins/module_utils/\n") :]
    listing = listing[: listing.index("```")]
    named = set(re.findall(r"[\w]+\.py", listing))
    missing = sorted(str(p.relative_to(MODULE_UTILS)) for p in MODULE_UTILS.rglob("*.py") if p.name not in named)
    assert missing == [], "add these to the README's listing of plugins/module_utils"
