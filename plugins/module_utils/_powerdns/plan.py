# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Record sets (RRsets) and what to change in them: the vocabulary the zone and record plans share.

Pure: an RRSet is built from what the server answered or from what a task asks for, in the same canonical form
(_powerdns/records.py), and a Change says what to do to one set. Nothing here talks to the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import (
    DISABLED_MARK,
    display,
    in_zone,
    normalize_content,
    parent,
)

# What may sit at or below a delegation point in the parent zone: the delegation itself and glue addresses.
_DELEGATION_TYPES = ("NS", "DS")
_GLUE_TYPES = ("A", "AAAA")


@dataclass(frozen=True)
class RRSet:
    """All records of one name and type; ``records`` sorted, disabled ones marked so they never compare equal."""

    name: str
    type: str
    ttl: int
    records: tuple[str, ...]

    def lines(self) -> list[str]:
        return [f"{self.name} {self.ttl} IN {self.type} {content}" for content in self.records]

    def api(self, changetype: str | None = "REPLACE") -> dict[str, Any]:
        """The RRset as the API takes it: in a PATCH (with ``changetype``) or in a new zone (without)."""
        body: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "ttl": self.ttl,
            "records": [_record_body(content) for content in self.records],
        }
        if changetype:
            body["changetype"] = changetype
        return body

    def result(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "ttl": self.ttl, "records": list(self.records)}


def _record_body(content: str) -> dict[str, Any]:
    disabled = content.endswith(DISABLED_MARK)
    return {"content": content[: -len(DISABLED_MARK)] if disabled else content, "disabled": disabled}


def rrset_from_api(item: Mapping[str, Any]) -> RRSet:
    """An RRSet from the server's JSON, in the same canonical form as the requested ones."""
    rtype = str(item.get("type", "")).upper()
    records = []
    for record in item.get("records") or []:
        content = str(record.get("content", ""))
        try:
            content = normalize_content(rtype, content)
        except InputError:
            pass  # keep what the server has; it simply will not compare equal to a valid request
        records.append(content + (DISABLED_MARK if record.get("disabled") else ""))
    return RRSet(str(item.get("name", "")).lower(), rtype, int(item.get("ttl") or 0), tuple(sorted(set(records))))


def zone_rrsets(zone: Mapping[str, Any]) -> dict[tuple[str, str], RRSet]:
    return {(r.name, r.type): r for r in (rrset_from_api(item) for item in zone.get("rrsets") or []) if r.records}


def desired_rrset(name: str, rtype: str, ttl: Any, records: Iterable[Any], what: str) -> RRSet:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 2147483647:
        raise InputError(f"{what}.ttl: {ttl!r} must be a number of seconds from 0 to 2147483647")
    values = list(records)
    if not values:
        raise InputError(
            f"{what}.records: at least one record is needed with state=present (use state=absent to remove the set)"
        )
    contents = tuple(sorted({normalize_content(rtype, v, f"{what}.records[{i}]") for i, v in enumerate(values)}))
    if rtype == "CNAME" and len(contents) > 1:
        raise InputError(f"{what}.records: a CNAME has exactly one target, got {len(contents)}")
    return RRSet(name, rtype, ttl, contents)


def occluding_delegation(name: str, rtype: str, zone: str, rrsets: Mapping[tuple[str, str], RRSet]) -> str | None:
    """The delegation point (an NS set below the apex of ``zone``) that hides ``name``, or None.

    Records at or below a delegation are not served as answers: the server refers the client to the delegated
    zone's servers instead. Only the delegation's own NS/DS set and the glue addresses of its name servers belong
    there.
    """
    candidate = parent(name) if rtype in _DELEGATION_TYPES else name
    while candidate != zone and in_zone(candidate, zone):
        delegation = rrsets.get((candidate, "NS"))
        if delegation is not None:
            if rtype in _GLUE_TYPES and name in delegation.records:
                return None
            return candidate
        candidate = parent(candidate)
    return None


@dataclass
class Change:
    """One RRset change: ``action`` is created, updated or deleted; ``after`` is None when deleted."""

    zone: str
    action: str
    before: RRSet | None
    after: RRSet | None

    def api(self) -> dict[str, Any]:
        if self.after is None:
            if self.before is None:
                raise ValueError("a change needs a set before or after it")
            return {"name": self.before.name, "type": self.before.type, "changetype": "DELETE", "records": []}
        return self.after.api()

    def result(self) -> dict[str, Any]:
        current = self.after or self.before
        if current is None:
            raise ValueError("a change needs a set before or after it")
        return {"zone": display(self.zone), "name": display(current.name), "type": current.type, "action": self.action}


def plan_rrset(
    zone: str,
    current: RRSet | None,
    want: RRSet | None,
    remove: tuple[str, ...] | None = None,
) -> Change | None:
    """What to do to one RRset: make it ``want`` (present), delete it (``want`` None) or drop ``remove`` values."""
    if want is not None:
        if current == want:
            return None
        return Change(zone, "created" if current is None else "updated", current, want)
    if current is None:
        return None
    if remove is None:
        return Change(zone, "deleted", current, None)
    kept = tuple(r for r in current.records if r not in remove)
    if kept == current.records:
        return None
    if not kept:
        return Change(zone, "deleted", current, None)
    return Change(zone, "updated", current, RRSet(current.name, current.type, current.ttl, kept))


def diff_text(rrsets: Iterable[RRSet | None]) -> str:
    """Zone-file lines of ``rrsets`` (None skipped), sorted, each ending in a newline."""
    lines = sorted(line for rrset in rrsets if rrset is not None for line in rrset.lines())
    return "".join(line + "\n" for line in lines)


def changes_diff(changes: list[Change]) -> dict[str, str]:
    zones = sorted({display(c.zone) for c in changes})
    return {
        "before": diff_text(c.before for c in changes),
        "after": diff_text(c.after for c in changes),
        "before_header": "zone " + ", ".join(zones),
        "after_header": "zone " + ", ".join(zones),
    }
