# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Problems found in a cluster definition: what, where, and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    """One problem: ``level`` is "error" or "warning", ``path`` the field (``nodes[2].address``)."""

    level: str
    path: str
    message: str
    fix: str

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def __str__(self) -> str:
        message = self.message.rstrip(". ")
        fix = self.fix.strip()
        if fix and not fix.endswith((".", "!", "?")):
            fix += "."
        return f"{self.path}: {message}. Fix: {fix}"

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "path": self.path, "message": self.message, "fix": self.fix}


@dataclass
class Report:
    """Collects every issue; nothing here ever stops at the first one."""

    issues: list[Issue] = field(default_factory=list)

    def error(self, path: str, message: str, fix: str) -> None:
        self._add(Issue(ERROR, path, message, fix))

    def warning(self, path: str, message: str, fix: str) -> None:
        self._add(Issue(WARNING, path, message, fix))

    def _add(self, issue: Issue) -> None:
        if issue not in self.issues:
            self.issues.append(issue)

    @property
    def has_errors(self) -> bool:
        return any(issue.is_error for issue in self.issues)

    def errors_at(self, prefix: str) -> bool:
        """True when an error was already reported at ``prefix`` or below it."""
        below = (prefix + ".", prefix + "[")
        return any(i.is_error and (i.path == prefix or i.path.startswith(below)) for i in self.issues)


def format_issues(issues: Iterable[Issue]) -> str:
    """Errors first, then warnings, one per line, with a count on top."""
    issues = list(issues)
    if not issues:
        return "The cluster definition has no problems."
    errors = [i for i in issues if i.is_error]
    warnings = [i for i in issues if not i.is_error]
    counts = []
    if errors:
        counts.append(f"{len(errors)} error{'s' if len(errors) != 1 else ''}")
    if warnings:
        counts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
    lines = [f"The cluster definition has {' and '.join(counts)}:"]
    lines += [f"  {issue.level.upper()}: {issue}" for issue in errors + warnings]
    return "\n".join(lines)


def closest(word: object, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice that ``word`` most likely meant, or None."""
    if not isinstance(word, str):
        return None
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[matches[0]] if matches else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' or an empty string."""
    match = closest(word, choices)
    return f' (did you mean "{match}"?)' if match is not None and match != word else ""


def one_of(choices: Iterable[str]) -> str:
    choices = [f'"{c}"' for c in choices]
    if len(choices) <= 1:
        return "".join(choices)
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
