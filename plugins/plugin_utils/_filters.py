# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Turn a pure function into a filter: its ValueError becomes Ansible's filter error, named after the filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError


def as_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as the filter ``name``: a ValueError it raises fails the task with ``name: <message>``."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ValueError as exc:
            raise AnsibleFilterError(f"{name}: {exc}") from exc

    run.__name__ = name
    run.__doc__ = function.__doc__
    return run
