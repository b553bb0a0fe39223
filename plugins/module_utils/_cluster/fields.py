# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Typed reading of one field at a time: each reader reports what is wrong and returns None for it."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any, Union
from urllib.parse import urlsplit

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import (
    Report,
    closest,
    did_you_mean,
    join_path,
    one_of,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    HAS_YAML,
    TalosConfigError,
    yaml,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.patches import parse_patch

# typing.Union rather than |: these aliases are evaluated at import time, and pylint checks module_utils as such.
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]  # noqa: UP007
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]  # noqa: UP007

CLUSTER_NAME_RE = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_HOST_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)
TALOS_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+(-(alpha|beta|rc)\.\d+)?$")
KUBERNETES_VERSION_RE = re.compile(r"^v?(\d+\.\d+\.\d+(-(alpha|beta|rc)\.\d+)?)$")
_REGISTRY_RE = re.compile(r"^(?P<host>[^:/\s]+|\[[0-9a-fA-F:.]+\])(:(?P<port>\d{1,5}))?$")


def describe(value: Any) -> str:
    """How a YAML value reads in a message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def is_dns_name(text: str) -> bool:
    if not text or len(text) > 253:
        return False
    return all(_HOST_LABEL_RE.fullmatch(label) for label in text.rstrip(".").split("."))


def parse_ip(text: Any) -> IPAddress | None:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def spacing_problem(value: Any) -> str | None:
    """Why a text value with white space around it is refused (it would have to be trimmed), or None."""
    if isinstance(value, str) and value.strip() and value != value.strip():
        return f"{json.dumps(value)} has white space before or after it"
    return None


def url_problem(text: str, schemes: Iterable[str]) -> str | None:
    """Why ``text`` is not a usable URL, or None when it is one."""
    schemes = tuple(schemes)
    if any(c.isspace() for c in text):
        return "contains white space"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in schemes:
        return f"must start with {one_of(s + '://' for s in schemes)}"
    host = parts.hostname or ""
    if not host:
        return "has no host name"
    if parse_ip(host) is None and not is_dns_name(host):
        return f'has "{host}" as its host, which is neither a DNS name nor an IP address'
    if port is not None and not 0 < port < 65536:
        return "has a port outside 1..65535"
    return None


def patch_text_problem(text: str) -> str | None:
    """Why a patch written as YAML text cannot be applied as Talos applies patches, or None.

    Text holding Jinja (``{{``, ``{%``) is left alone: the inventory reads it before Ansible renders it, and the
    cluster_definition module checks it rendered.
    """
    if not HAS_YAML or "{{" in text or "{%" in text:
        return None
    try:
        parsed = parse_patch(text, "the patch")
    except TalosConfigError as exc:
        cause = exc.__cause__
        mark = getattr(cause, "problem_mark", None)
        if mark is not None:
            reason = getattr(cause, "problem", None) or "cannot be read"
            return f"the patch is not valid YAML: {reason} (line {mark.line + 1}, column {mark.column + 1})"
        return " ".join(str(exc).split())
    duplicate = _duplicate_key(text)
    if duplicate:
        return duplicate
    if parsed.operations is None and not parsed.documents:
        return "the patch holds no document"
    if parsed.operations == []:
        return "the patch is an empty list of JSON patch operations"
    return None


def _duplicate_key(text: str) -> str | None:
    """A key written twice in one mapping of ``text``: Talos refuses it, where a plain YAML load keeps the last."""
    pending = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, Any]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if (key.tag, key.value) in seen:
                        mark = key.start_mark
                        return f'the patch writes the key "{key.value}" twice (line {mark.line + 1})'
                    seen.add((key.tag, key.value))
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return None


class Reader:
    """Reads fields out of mappings, reporting every problem to one Report."""

    def __init__(self, report: Report) -> None:
        self.report = report

    # -- structure ---------------------------------------------------------------------------------------------
    def mapping(self, value: Any, path: str, example: str = "") -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            fix = f"write it as a mapping, for example {example}" if example else "write it as a mapping (key: value)"
            self.report.error(path, f"must be a mapping, not {describe(value)}", fix)
            return None
        return value

    def known_keys(self, data: dict, allowed: Iterable[str], path: str) -> None:
        allowed = list(allowed)
        for key in data:
            if key in allowed:
                continue
            match = closest(key, allowed)
            where = join_path(path, str(key))
            if match is not None and match != key:
                self.report.error(where, f'unknown key "{key}" (did you mean "{match}"?)', f'rename it to "{match}"')
            else:
                self.report.error(
                    where, f'unknown key "{key}"', f"remove it; the keys allowed here are {', '.join(allowed)}"
                )

    def required(self, data: dict, key: str, path: str, example: str) -> bool:
        if data.get(key) is None:
            self.report.error(join_path(path, key), "is required but not set", f"add {key}: {example}")
            return False
        return True

    def items(self, data: dict, key: str, path: str, example: str = "") -> list | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            fix = f"write it as a YAML list, for example {example}" if example else "write it as a YAML list"
            self.report.error(join_path(path, key), f"must be a list, not {describe(value)}", fix)
            return None
        return value

    # -- scalars -----------------------------------------------------------------------------------------------
    def string(self, data: dict, key: str, path: str, example: str = "") -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            fix = f"write a text value, for example {key}: {example}" if example else "write a non-empty text value"
            if isinstance(value, int | float) and not isinstance(value, bool):
                fix += " (in quotes, so YAML does not read it as a number)"
            self.report.error(join_path(path, key), f"must be a non-empty string, not {describe(value)}", fix)
            return None
        return self.as_written(value, join_path(path, key))

    def as_written(self, value: str, where: str) -> str | None:
        """``value`` unchanged, or None (reported) when it has white space around it: nothing is trimmed."""
        problem = spacing_problem(value)
        if problem:
            self.report.error(where, problem, f'write it without the white space: "{value.strip()}"')
            return None
        return value

    def boolean(self, data: dict, key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is None or isinstance(value, bool):
            return value
        self.report.error(
            join_path(path, key),
            f"must be true or false, not {describe(value)}",
            f"write {key}: true or {key}: false (without quotes)",
        )
        return None

    def integer(
        self, data: dict, key: str, path: str, minimum: int | None = None, maximum: int | None = None, unit: str = ""
    ) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        where = join_path(path, key)
        if isinstance(value, str):
            # YAML reads "3" in quotes as text; converting it would be rewriting what was written.
            self.report.error(
                where,
                f"must be a whole number{unit}, not the text {describe(value)}",
                f"write it as a number, without quotes, such as {key}: {minimum if minimum is not None else 1}",
            )
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.report.error(
                where,
                f"must be a whole number{unit}, not {describe(value)}",
                f"write a whole number such as {key}: {minimum if minimum is not None else 1}",
            )
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"{minimum}..{maximum}" if maximum is not None else f"at least {minimum}"
            self.report.error(where, f"{value} is out of range ({bounds})", f"choose a value in the range {bounds}")
            return None
        return value

    def choice(self, data: dict, key: str, path: str, choices: Iterable[str]) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        choices = list(choices)
        if value in choices:
            return value
        hint = did_you_mean(value, choices)
        self.report.error(
            join_path(path, key),
            f"{describe(value)} is not one of {one_of(choices)}{hint}",
            f"set {key} to one of {one_of(choices)}",
        )
        return None

    def pattern(self, data: dict, key: str, path: str, regex: re.Pattern, rule: str, example: str) -> str | None:
        value = self.string(data, key, path, example)
        if value is None:
            return None
        if not regex.fullmatch(value):
            self.report.error(join_path(path, key), f'"{value}" is not valid: {rule}', f"write it like {example}")
            return None
        return value

    # -- addresses ---------------------------------------------------------------------------------------------
    def ip(self, data: dict, key: str, path: str, example: str = "10.0.1.10") -> IPAddress | None:
        return self.ip_value(data.get(key), join_path(path, key), example)

    def ip_value(self, value: Any, where: str, example: str = "10.0.1.10") -> IPAddress | None:
        if value is None or (spacing_problem(value) and self.as_written(value, where) is None):
            return None
        address = parse_ip(value)
        if address is None:
            extra = " (a network is not an address)" if isinstance(value, str) and "/" in value else ""
            self.report.error(
                where,
                f"{describe(value)} is not an IP address{extra}",
                f"write an IPv4 or IPv6 address such as {example}",
            )
        return address

    def cidr(self, data: dict, key: str, path: str, example: str = "10.0.1.0/24") -> IPNetwork | None:
        return self.cidr_value(data.get(key), join_path(path, key), example)

    def cidr_value(self, value: Any, where: str, example: str = "10.0.1.0/24") -> IPNetwork | None:
        if value is None or (spacing_problem(value) and self.as_written(value, where) is None):
            return None
        if not isinstance(value, str) or "/" not in value:
            self.report.error(
                where,
                f"{describe(value)} is not a network in CIDR notation",
                f"write a network with its prefix length, such as {example}",
            )
            return None
        try:
            return ipaddress.ip_network(value)
        except ValueError:
            pass
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            self.report.error(
                where,
                f"{describe(value)} is not a network in CIDR notation",
                f"write a network with its prefix length, such as {example}",
            )
            return None
        self.report.error(where, f'"{value}" has host bits set', f"write the network address: {loose}")
        return None

    # -- names -------------------------------------------------------------------------------------------------
    def dns_name(self, data: dict, key: str, path: str, example: str = "k8s.example.org") -> str | None:
        value = self.string(data, key, path, example)
        if value is None:
            return None
        if not is_dns_name(value):
            self.report.error(
                join_path(path, key),
                f'"{value}" is not a valid DNS name',
                f"use letters, digits, '-' and dots only, like {example}",
            )
            return None
        return self._dns_as_written(value, join_path(path, key))

    def _dns_as_written(self, value: str, where: str) -> str | None:
        """A DNS name as written, or None (reported) when using it would mean rewriting it."""
        if value != value.lower() or value.endswith("."):
            self.report.error(
                where,
                f'"{value}" is a DNS name in upper case or with a trailing dot (the cluster would have to rewrite it)',
                f'write it in lower case without the trailing dot: "{value.rstrip(".").lower()}"',
            )
            return None
        return value

    def host(self, data: dict, key: str, path: str, example: str = "vps.example.org") -> str | None:
        """A DNS name or an IP address."""
        value = self.string(data, key, path, example)
        if value is None:
            return None
        if parse_ip(value) is not None:
            return value
        if not is_dns_name(value):
            self.report.error(
                join_path(path, key),
                f'"{value}" is neither a DNS name nor an IP address',
                f"write a host name like {example} or an IP address",
            )
            return None
        return self._dns_as_written(value, join_path(path, key))

    def url(
        self,
        data: dict,
        key: str,
        path: str,
        schemes: Iterable[str] = ("https", "http"),
        example: str = "https://example.org",
    ) -> str | None:
        value = self.string(data, key, path, example)
        if value is None:
            return None
        problem = url_problem(value, schemes)
        if problem:
            self.report.error(join_path(path, key), f'"{value}" {problem}', f"write a URL like {example}")
            return None
        return value

    def registry(self, data: dict, key: str, path: str) -> str | None:
        value = self.string(data, key, path, "factory.talos.dev")
        if value is None:
            return None
        match = _REGISTRY_RE.fullmatch(value)
        host = match.group("host").strip("[]") if match else ""
        port = int(match.group("port")) if match and match.group("port") else None
        if not match or (not is_dns_name(host) and parse_ip(host) is None) or (port is not None and not port):
            self.report.error(
                join_path(path, key),
                f'"{value}" is not a registry host',
                "write a host name with an optional port, such as registry.example.org:5000 (no scheme, no path)",
            )
            return None
        return value
