# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Helm values as data: one normal form, an exact comparison, the keys that differ, and masking for display.

Pure. Values reach the module as Ansible data and come back from ``helm get values -o json`` as JSON; both are
brought to the same JSON form (``normal``) before they are compared with ``same``, which, unlike ``==``, tells
``true`` from ``1``. What is shown to the user (diffs, warnings, errors) goes through ``masked``/``mask_text``:
the value of every key that looks secret is replaced.
"""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "********"
# Words of a key (split at case changes, dashes, dots and underscores) that make its value a secret to display.
SECRET_WORDS = frozenset(
    {"password", "passwd", "passphrase", "token", "tokens", "secret", "secrets", "key", "keys", "apikey", "tsig",
     "credential", "credentials", "privatekey", "bearer"}
)  # fmt: skip
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def normal(values: Any) -> Any:
    """``values`` in JSON form (mappings with string keys, lists, strings, numbers, booleans); None is ``{}``."""
    if values is None:
        return {}
    return json.loads(json.dumps(values, default=str))


def same(left: Any, right: Any) -> bool:
    """Equal as Helm sees values: like ``==`` but a boolean never equals a number (``True == 1`` in Python)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    return type(left) is type(right) and left == right


def changed_keys(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the keys whose values differ (a list differs as a whole); sorted."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                found.append(path)
            else:
                found += changed_keys(before[key], after[key], path)
        return found
    if same(before, after):
        return []
    return [prefix or "(all values)"]


def looks_secret(key: Any) -> bool:
    """Whether a key names a secret: one of its words (``apiToken`` -> api, token) is in SECRET_WORDS."""
    text = str(key)
    words = {word.lower() for word in _WORD.findall(text)}
    return bool(words & SECRET_WORDS) or text.lower() in SECRET_WORDS


def masked(values: Any, hide: bool = False) -> Any:
    """A copy of ``values`` with every scalar under a secret-looking key replaced by MASK (booleans and nulls stay)."""
    if isinstance(values, dict):
        return {key: masked(value, hide or looks_secret(key)) for key, value in values.items()}
    if isinstance(values, list):
        return [masked(value, hide) for value in values]
    if hide and values is not None and not isinstance(values, bool):
        return MASK
    return values


def secret_strings(values: Any, hide: bool = False) -> list[str]:
    """The scalars ``masked`` would hide, as text, longest first (to cut them out of helm's messages)."""
    found: set[str] = set()
    if isinstance(values, dict):
        for key, value in values.items():
            found.update(secret_strings(value, hide or looks_secret(key)))
    elif isinstance(values, list):
        for value in values:
            found.update(secret_strings(value, hide))
    elif hide and values is not None and not isinstance(values, bool) and str(values).strip():
        found.add(str(values))
    return sorted(found, key=len, reverse=True)


def mask_text(text: str, secrets: list[str]) -> str:
    """``text`` with every string of ``secrets`` (from ``secret_strings``) replaced by MASK."""
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


def to_yaml(values: Any) -> str:
    """``values`` as the YAML helm reads (``-f``) and the values files hold: block style, keys in their order.

    Helm (and Flux) read YAML with Go's YAML 1.1 rules, where a bare ``y``, ``n`` (and their capitals) is a boolean;
    PyYAML writes such strings bare, so they are quoted here: the key ``n`` stays the key ``n``.
    """
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.yaml_implicit_resolvers = {
        key: list(value) for key, value in yaml.SafeDumper.yaml_implicit_resolvers.items()
    }
    Dumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
    data = normal(values)
    if not data:
        return "{}\n"
    return str(yaml.dump(data, Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True,
                         width=1000))  # fmt: skip


def from_yaml(text: str) -> Any:
    """The values a YAML text holds (``{}`` for an empty one); ValueError when it is not YAML."""
    import yaml

    try:
        return normal(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
