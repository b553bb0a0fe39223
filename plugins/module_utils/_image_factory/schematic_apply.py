# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.image_factory_schematic does, without Ansible: parameters in, result out.

One schematic, or a list of them registered in parallel (each distinct schematic once). Every schematic is
checked before any request; in a list, a schematic that fails is reported in ``failures`` (PartialFailure) while
the others are registered (docs/failures.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import (
    InputError,
    PartialFailure,
    item_failure,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    ImageFactoryClient,
    ImageFactoryError,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import (
    SchematicError,
    canonicalize,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count


def _schematic_url(params: Mapping[str, Any], schematic_id: str) -> str:
    return f"{(params.get('url') or '').rstrip('/')}/schematics/{schematic_id}"


def _diff(schematic_id: str, canonical: str) -> dict[str, str]:
    return {
        "before": "",
        "after": canonical,
        "before_header": f"schematic {schematic_id} (not registered)",
        "after_header": f"schematic {schematic_id}",
    }


def run_one(params: Mapping[str, Any], check_mode: bool, client: ImageFactoryClient | None = None) -> dict[str, Any]:
    """Register ``schematic``. Raises SchematicError or ImageFactoryError."""
    schematic = params.get("schematic") or {}
    schematic_id, canonical = canonicalize(schematic)
    result: dict[str, Any] = {
        "changed": False,
        "id": schematic_id,
        "schematic": canonical,
        "url": _schematic_url(params, schematic_id),
    }
    if check_mode:
        return result
    client = client or client_from_params(params)
    if client.ensure_schematic(schematic)[2]:
        result["changed"] = True
        result["diff"] = _diff(schematic_id, canonical)
    return result


def _entry_error(index: int, error: str) -> str:
    """An error of normalize_schematic, prefixed with the entry's place in the list."""
    if error.startswith("schematic:"):  # the entry itself, not one of its fields
        return f"schematics[{index}]{error[len('schematic') :]}"
    return f"schematics[{index}].{error}"


def canonicalize_all(schematics: list[Any]) -> tuple[list[str], dict[str, tuple[int, str, Any]]]:
    """Validate every entry; return the ID of each entry and, by ID in first-seen order, (index, canonical, entry).

    Raises one SchematicError listing the problems of all entries.
    """
    errors: list[str] = []
    ids: list[str] = []
    distinct: dict[str, tuple[int, str, Any]] = {}
    for index, schematic in enumerate(schematics):
        try:
            schematic_id, canonical = canonicalize(schematic or {})
        except SchematicError as exc:
            errors.extend(_entry_error(index, error) for error in exc.errors)
            continue
        ids.append(schematic_id)
        distinct.setdefault(schematic_id, (index, canonical, schematic or {}))
    if errors:
        raise SchematicError(errors)
    return ids, distinct


def run_many(
    params: Mapping[str, Any], check_mode: bool, make_client: Callable[[], ImageFactoryClient] | None = None
) -> dict[str, Any]:
    """Register every distinct schematic of ``schematics`` in parallel.

    Raises InputError or SchematicError (before any request), or PartialFailure when some registrations fail.
    """
    workers = worker_count(params.get("parallel", 8), InputError)
    ids, distinct = canonicalize_all(list(params["schematics"]))
    entries: list[dict[str, Any]] = [
        {"id": sid, "schematic": canonical, "url": _schematic_url(params, sid), "changed": False}
        for sid, (_index, canonical, _schematic) in distinct.items()
    ]
    result: dict[str, Any] = {"changed": False, "schematics": entries, "ids": ids}
    if check_mode or not entries:
        return result
    outcomes = in_parallel(
        [schematic for _index, _canonical, schematic in distinct.values()],
        workers,
        make_client or (lambda: client_from_params(params)),
        lambda client, schematic: client.ensure_schematic(schematic)[2],
        (ImageFactoryError,),
        "schematic",
    )
    failures: list[dict[str, Any]] = []
    for entry, (index, _canonical, _schematic), (created, error) in zip(
        entries, distinct.values(), outcomes, strict=True
    ):
        if error is None:
            entry["changed"] = bool(created)
            continue
        failures.append({**item_failure(f"schematics[{index}]", error), "index": index, "id": entry["id"]})
        entry.update(failed=True, msg=failures[-1]["msg"])
    result["changed"] = any(entry["changed"] for entry in entries)
    if failures:
        raise PartialFailure.of("distinct schematics", len(entries), failures, result)
    diffs = [_diff(entry["id"], entry["schematic"]) for entry in entries if entry["changed"]]
    if diffs:
        result["diff"] = diffs
    return result


def run(params: Mapping[str, Any], check_mode: bool, client: ImageFactoryClient | None = None) -> dict[str, Any]:
    """The module's work: one schematic or a list. Raises InputError, ImageFactoryError or PartialFailure."""
    if params.get("schematics") is not None:
        return run_many(params, check_mode, (lambda: client) if client else None)
    return run_one(params, check_mode, client)
