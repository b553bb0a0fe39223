"""``config endpoint|node|merge|info|contexts|context``: edit or show the talosconfig file (no node involved)."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from ..simulators.talos import pki, yamlio
from .errors import TalosctlError
from .rendering import tabulate
from .runtime import Runtime
from .transport import talosconfig_path

_DAY = 86400
_MAGNITUDES = (  # go-humanize RelTime: (below, format, divisor); Month = 30 days, Year = 12 months
    (1, "now", 1),
    (2, "1 second {}", 1),
    (60, "{n} seconds {}", 1),
    (120, "1 minute {}", 1),
    (3600, "{n} minutes {}", 60),
    (7200, "1 hour {}", 1),
    (_DAY, "{n} hours {}", 3600),
    (2 * _DAY, "1 day {}", 1),
    (7 * _DAY, "{n} days {}", _DAY),
    (14 * _DAY, "1 week {}", 1),
    (30 * _DAY, "{n} weeks {}", 7 * _DAY),
    (60 * _DAY, "1 month {}", 1),
    (360 * _DAY, "{n} months {}", 30 * _DAY),
    (540 * _DAY, "1 year {}", 1),
    (720 * _DAY, "2 years {}", 1),
    (10**12, "{n} years {}", 360 * _DAY),
)


def relative_time(then: datetime.datetime, now: datetime.datetime) -> str:
    seconds = int((then - now).total_seconds())
    label = "from now" if seconds >= 0 else "ago"
    seconds = abs(seconds)
    for below, text, divisor in _MAGNITUDES:
        if seconds < below:
            return text.format(label, n=seconds // divisor) if text != "now" else "now"
    return f"a long while {label}"


def _path(rt: Runtime) -> Path:
    return talosconfig_path(rt.flag("talosconfig") or None, rt.env, rt.cwd)


def _open(rt: Runtime, must_exist: bool = True) -> tuple[Path, dict[str, Any]]:
    path = _path(rt)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if must_exist:
            raise TalosctlError(
                f'failed to open config file "{path}": open {path}: no such file or directory'
            ) from None
        return path, {"context": "", "contexts": {}}
    try:
        data = yamlio.load_one(text, "talosconfig") if text.strip() else {}
    except yamlio.YAMLError as error:
        raise TalosctlError(f'failed to open config file "{path}": {error}') from None
    data.setdefault("contexts", {})
    return path, data


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(yamlio.dump(data))


def _current(rt: Runtime, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = rt.flag("context") or data.get("context") or ""
    if not name:
        raise TalosctlError("context is not set")
    context = (data.get("contexts") or {}).get(name)
    if context is None:
        raise TalosctlError(f'context "{name}" is not defined')
    return name, context


def endpoint(rt: Runtime) -> None:
    path, data = _open(rt)
    _current(rt, data)[1]["endpoints"] = list(rt.args)
    _save(path, data)


def node(rt: Runtime) -> None:
    path, data = _open(rt)
    _current(rt, data)[1]["nodes"] = list(rt.args)
    _save(path, data)


def context(rt: Runtime) -> None:
    path, data = _open(rt)
    if rt.args[0] not in data["contexts"]:
        raise TalosctlError(f'context "{rt.args[0]}" not defined')
    data["context"] = rt.args[0]
    _save(path, data)


def merge(rt: Runtime) -> None:
    source = rt.path(rt.args[0])
    try:
        incoming = yamlio.load_one(source.read_text(encoding="utf-8"), "talosconfig")
    except OSError as error:
        raise TalosctlError(f"open {rt.args[0]}: {(error.strerror or str(error)).lower()}") from None
    except yamlio.YAMLError as error:
        raise TalosctlError(str(error)) from None
    path, data = _open(rt, must_exist=False)
    renamed: dict[str, str] = {}
    for name, entry in (incoming.get("contexts") or {}).items():
        merged = name
        index = 0
        while merged in data["contexts"]:
            index += 1
            merged = f"{name}-{index}"
        if merged != name:
            rt.print(f'renamed talosconfig context "{name}" -> "{merged}"')
        renamed[name] = merged
        data["contexts"][merged] = entry
    if incoming.get("context"):
        data["context"] = renamed.get(incoming["context"], incoming["context"])
    _save(path, data)


def _info(rt: Runtime, data: dict[str, Any]) -> dict[str, Any]:
    name, entry = _current(rt, data)
    info: dict[str, Any] = {
        "context": name,
        "nodes": list(entry.get("nodes") or []),
        "endpoints": list(entry.get("endpoints") or []),
        "roles": [],
        "certTTL": "",
        "certNotAfter": "",
    }
    if entry.get("crt"):
        try:
            crt = pki.unb64(entry["crt"])
            not_after = pki.not_after(crt)
        except (ValueError, TypeError):
            raise TalosctlError("error decoding PEM") from None
        info["roles"] = pki.organizations(crt)
        info["certTTL"] = relative_time(not_after, datetime.datetime.now(datetime.UTC))
        info["certNotAfter"] = not_after.strftime("%Y-%m-%d")
    return info


def info(rt: Runtime) -> None:
    _path_unused, data = _open(rt)
    details = _info(rt, data)
    output = rt.flag("output")
    if output == "json":
        rt.out.write(json.dumps(details, indent=2) + "\n")
        return
    if output == "yaml":
        rt.out.write(yamlio.dump(details))
        return
    if output != "text":
        raise TalosctlError(f"unknown output format: {output!r}")
    lines = [
        f"Current context:     {details['context']}",
        f"Nodes:               {', '.join(details['nodes']) or 'not defined'}",
        f"Endpoints:           {', '.join(details['endpoints']) or 'not defined'}",
    ]
    if details["roles"]:
        lines.append(f"Roles:               {', '.join(details['roles'])}")
    if details["certTTL"]:
        lines.append(f"Certificate expires: {details['certTTL']} ({details['certNotAfter']})")
    rt.out.write("\n".join(lines) + "\n\n")


def contexts(rt: Runtime) -> None:
    _path_unused, data = _open(rt)
    rows = [["CURRENT", "NAME", "ENDPOINTS", "NODES"]]
    for name in sorted(data["contexts"]):
        entry = data["contexts"][name] or {}
        rows.append(
            [
                "*" if name == data.get("context") else "",
                name,
                ",".join(entry.get("endpoints") or []),
                ",".join(entry.get("nodes") or []),
            ]
        )
    rt.out.write(tabulate(rows))
