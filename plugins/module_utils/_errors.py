# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The three kinds of failure every module of the collection reports, and nothing else.

Every error a module can end with is a subclass of one of these, so ``_module.run_module`` maps all of them the
same way and a user's ``rescue:`` or ``failed_when`` sees one shape whatever the API (docs/failures.md):

- ``InputError``: the module's input is wrong; nothing was sent. Only ``msg``.
- ``ApiError``: a request (HTTP or a talosctl command) failed; ``msg`` plus ``failure`` with ``status`` (the HTTP
  status, or None when no answer came or the request was not HTTP), ``code`` (the API's error code, or the kind of
  failure where the API has none), ``details`` (what the API said beyond that) and ``request`` (which request).
- ``PartialFailure``: some items of a many-item run failed; ``msg``, the result as far as it is known (what did
  change is reported, never lost), and ``failures`` with one entry per failed item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TalosforgeError(Exception):
    """The root: a failure a module reports with ``msg`` and the fields of ``fail_fields()``."""

    def fail_fields(self) -> dict[str, Any]:
        """The keys a module returns beside ``msg`` when it fails with this error."""
        return {}


class InputError(TalosforgeError, ValueError):
    """The input is not valid (a parameter, a spec, a definition); nothing was sent to any API."""


class ApiError(TalosforgeError):
    """A request failed: ``status`` None means no answer (unreachable, timed out) or a request that is not HTTP."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
        request: str = "",
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details
        self.request = request

    def failure(self) -> dict[str, Any]:
        """The structured failure returned beside the message (hetzner.hcloud's ``failure`` keys)."""
        return {"status": self.status, "code": self.code, "details": self.details, "request": self.request}

    def fail_fields(self) -> dict[str, Any]:
        return {"failure": self.failure()}


class PartialFailure(TalosforgeError):
    """Some items failed: ``result`` is the module result as far as it is known, ``failures`` one dict per item.

    Each failure names its item (``name``) and says what went wrong (``msg``), and carries the ``failure`` of an
    ``ApiError`` when a request was the cause.
    """

    def __init__(self, message: str, result: Mapping[str, Any], failures: list[dict[str, Any]]):
        super().__init__(message)
        self.result = dict(result)
        self.failures = list(failures)

    @classmethod
    def of(cls, noun: str, total: int, failures: list[dict[str, Any]], result: Mapping[str, Any]) -> PartialFailure:
        """The one message for "N of M <noun> failed (names): name: reason; ..."."""
        names = ", ".join(str(f.get("name")) for f in failures)
        reasons = "; ".join(f"{f.get('name')}: {f.get('msg')}" for f in failures)
        return cls(f"{len(failures)} of {total} {noun} failed ({names}): {reasons}", result, failures)

    def fail_fields(self) -> dict[str, Any]:
        return {**self.result, "failures": self.failures}


def item_failure(name: str, error: Exception) -> dict[str, Any]:
    """One entry of ``PartialFailure.failures`` for an item that ended with ``error``."""
    entry: dict[str, Any] = {"name": name, "msg": str(error)}
    if isinstance(error, ApiError):
        entry["failure"] = error.failure()
    return entry
