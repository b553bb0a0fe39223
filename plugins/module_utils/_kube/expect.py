# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Expectations on live objects (a condition, a load-balancer address, readiness): met or not, and why not.

``check(entry, live)`` is pure: it returns ``(met, why, address)`` for one expectation and the object as read
(None when it does not exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError


def label(entry: Mapping[str, Any]) -> str:
    """``Kind namespace/name`` (``Kind name`` for a cluster-scoped object)."""
    namespace = entry.get("namespace")
    return (
        f"{entry.get('kind')} {namespace}/{entry.get('name')}"
        if namespace
        else f"{entry.get('kind')} {entry.get('name')}"
    )


def validate(entries: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The expectations, each with at most one of condition, address, ready (none: the object exists).

    InputError naming every bad entry.
    """
    problems, clean = [], []
    for index, entry in enumerate(entries):
        chosen = [key for key in ("condition", "address", "ready") if entry.get(key)]
        missing = [key for key in ("apiVersion", "kind", "name") if not entry.get(key)]
        if missing:
            problems.append(f"expect[{index}]: {', '.join(missing)} missing")
        elif len(chosen) > 1:
            problems.append(f"expect[{index}] ({label(entry)}): set one of condition, address, ready, not several")
        elif entry.get("address") and entry.get("kind") != "Service":
            problems.append(f"expect[{index}] ({label(entry)}): address applies to a Service")
        elif (entry.get("revision") or entry.get("requested")) and (entry.get("address") or entry.get("ready")):
            problems.append(
                f"expect[{index}] ({label(entry)}): revision and requested go with a condition, not address or ready"
            )
        else:
            extra = [key for key in ("revision", "requested") if entry.get(key)]
            keys = ("apiVersion", "kind", "namespace", "name", *chosen, *extra)
            clean.append({key: entry.get(key) for key in keys})
    if problems:
        raise InputError("; ".join(problems))
    return clean


def _condition(live: Mapping[str, Any], wanted: str) -> tuple[bool, str]:
    for condition in (live.get("status") or {}).get("conditions") or []:
        if condition.get("type") == wanted:
            if condition.get("status") == "True":
                return True, ""
            said = condition.get("message") or condition.get("reason") or ""
            return False, f"condition {wanted} is {condition.get('status')}" + (f": {said}" if said else "")
    return False, f"condition {wanted} not reported yet"


def _address(live: Mapping[str, Any]) -> tuple[bool, str, str | None]:
    ingress = ((live.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if ingress and (ingress[0].get("ip") or ingress[0].get("hostname")):
        return True, "", ingress[0].get("ip") or ingress[0].get("hostname")
    kind = (live.get("spec") or {}).get("type", "ClusterIP")
    if kind != "LoadBalancer":
        return False, f"the Service is of type {kind}, not LoadBalancer", None
    return False, "no load-balancer address assigned yet (is the pool it is pinned to there and not full?)", None


def _ready(live: Mapping[str, Any]) -> tuple[bool, str]:
    kind, spec, status = live.get("kind"), live.get("spec") or {}, live.get("status") or {}
    generation = (live.get("metadata") or {}).get("generation")
    if kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet") and generation is not None:
        if (status.get("observedGeneration") or 0) < generation:
            return False, "its controller has not seen the latest change yet"
    if kind == "DaemonSet":
        want, have = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
        if want and have >= want:
            return True, ""
        return False, f"{have} of {want} pods ready" + ("" if want else " (no node runs it yet)")
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        want = spec.get("replicas", 1)
        have = status.get("availableReplicas" if kind == "Deployment" else "readyReplicas") or 0
        if have >= want:
            return True, ""
        return False, f"{have} of {want} replicas {'available' if kind == 'Deployment' else 'ready'}"
    return _condition(live, "Ready")


def _revision(live: Mapping[str, Any], wanted: str) -> tuple[bool, str]:
    """A Flux object at a revision: a source's artifact, or what a Kustomization last applied, is ``wanted`` or
    ends in ``:<wanted>`` (Flux writes ``main@sha1:<commit>``)."""
    status = live.get("status") or {}
    have = (status.get("artifact") or {}).get("revision") or status.get("lastAppliedRevision") or ""
    if have == wanted or have.endswith(":" + wanted):
        return True, ""
    return False, f"at revision {have or '(none yet)'}, not {wanted}"


def check(entry: Mapping[str, Any], live: Mapping[str, Any] | None) -> tuple[bool, str, str | None]:
    """(met, why not, address) for one expectation against the object as read (None: it does not exist)."""
    if live is None:
        return False, "it does not exist", None
    if entry.get("address"):
        return _address(live)
    if entry.get("requested"):
        handled = (live.get("status") or {}).get("lastHandledReconcileAt")
        if handled != entry["requested"]:
            return False, f"the reconcile requested at {entry['requested']} not handled yet", None
    if entry.get("condition") or entry.get("revision") or entry.get("requested"):
        met, why = _condition(live, str(entry.get("condition") or "Ready"))
        if met and entry.get("revision"):
            met, why = _revision(live, str(entry["revision"]))
        return met, why, None
    if entry.get("ready"):
        met, why = _ready(live)
        return met, why, None
    return True, "", None  # it exists: all that was asked
