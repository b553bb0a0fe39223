# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Hetzner Cloud labels: the collection's label keys, label checks and label selectors (build, parse, match).

The rules are those of the API overview (tests/contracts/hetzner-cloud/api-overview.md, "Labels" and
"Label Selector"). Nothing here talks to the API or imports Ansible.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

PREFIX = "talosforge.io/"
CLUSTER = PREFIX + "cluster"
MANAGED_BY = PREFIX + "managed-by"
ROLE = PREFIX + "role"
POOL = PREFIX + "pool"
TEMPORARY = PREFIX + "temporary"
COLLECTION = "talosforge.cluster"

_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_VALUE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?")
_SET = re.compile(r"\s*(?P<key>[^\s!=,()]+)\s+(?P<op>in|notin)\s+\((?P<values>[^()]*)\)\s*")
_COMPARE = re.compile(r"\s*(?P<key>[^\s!=,()]+)\s*(?P<op>==|!=|=)\s*(?P<value>[^\s!=,()]*)\s*")
_EXISTS = re.compile(r"\s*(?P<neg>!?)\s*(?P<key>[^\s!=,()]+)\s*")


class LabelError(InputError):
    """A label or a label selector that the API would refuse."""


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label key, or None when it is."""
    if not isinstance(key, str) or not key:
        return "a label key must be a non-empty string"
    prefix, _sep, name = key.rpartition("/")
    if not _NAME.fullmatch(name):
        return (
            f"label key {key!r}: the name part must be 1-63 characters, start and end with a letter or digit, "
            "with only letters, digits, '-', '_' and '.' between"
        )
    if prefix or key.startswith("/"):
        if not prefix or len(prefix) > 253 or not all(_DNS_LABEL.fullmatch(part) for part in prefix.split(".")):
            return f"label key {key!r}: the prefix before '/' must be a DNS subdomain such as example.org"
        if prefix == "hetzner.cloud":
            return f"label key {key!r}: the prefix hetzner.cloud/ is reserved by Hetzner"
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None when it is."""
    if not isinstance(value, str) or not _VALUE.fullmatch(value):
        return (
            f"label value {value!r} must be empty or 1-63 characters that start and end with a letter or digit, "
            "with only letters, digits, '-', '_' and '.' between"
        )
    return None


def check_labels(labels: Mapping[str, str], where: str = "labels") -> dict[str, str]:
    """``labels`` as a dict of strings; raises LabelError naming every bad key and value."""
    problems = []
    result: dict[str, str] = {}
    for key, value in (labels or {}).items():
        text = "" if value is None else str(value) if not isinstance(value, bool) else str(value).lower()
        problem = label_key_problem(key) or label_value_problem(text)
        if problem:
            problems.append(f"{where}: {problem}")
        result[key] = text
    if problems:
        raise LabelError("; ".join(problems))
    return result


def cluster_labels(cluster: str) -> dict[str, str]:
    """The labels every resource of a cluster carries."""
    labels = {CLUSTER: cluster, MANAGED_BY: COLLECTION}
    check_labels(labels, "cluster")
    return labels


def selector(labels: Mapping[str, str]) -> str:
    """An equality selector matching every resource that carries all of ``labels`` (keys sorted)."""
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return terms


def parse_selector(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Terms of a label selector as (key, op, values) with op one of ==, !=, in, notin, exists, !exists."""
    if not isinstance(text, str) or not text.strip():
        raise LabelError("a label selector must be a non-empty string such as talosforge.io/cluster=prod")
    terms = []
    for raw in _split_terms(text):
        match = _SET.fullmatch(raw)
        if match:
            values = tuple(v.strip() for v in match["values"].split(","))
            terms.append((match["key"], match["op"], values))
            continue
        match = _COMPARE.fullmatch(raw)
        if match:
            op = "==" if match["op"] == "=" else match["op"]
            terms.append((match["key"], op, (match["value"],)))
            continue
        match = _EXISTS.fullmatch(raw)
        if match:
            terms.append((match["key"], "!exists" if match["neg"] else "exists", ()))
            continue
        raise LabelError(f"label selector {text!r}: cannot read the term {raw.strip()!r}")
    for key, _op, values in terms:
        problem = label_key_problem(key) or next(filter(None, map(label_value_problem, values)), None)
        if problem:
            raise LabelError(f"label selector {text!r}: {problem}")
    return terms


def matches(labels: Mapping[str, str], text: str) -> bool:
    """Whether a resource with ``labels`` is selected by the selector ``text``."""
    for key, op, values in parse_selector(text):
        present = key in labels
        value = labels.get(key)
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
        if op == "==" and value != values[0]:
            return False
        if op == "!=" and present and value == values[0]:
            return False
        if op == "in" and value not in values:
            return False
        if op == "notin" and present and value in values:
            return False
    return True
