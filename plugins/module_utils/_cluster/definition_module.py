# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The work of the cluster_definition module: validate a definition, then publish its model and image plan."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.published import published_model
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import (
    errors_of,
    format_issues,
    load_cluster,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError


class DefinitionError(InputError):
    """The definition has errors (or warnings, when they fail the run); ``issues`` lists every problem found."""

    def __init__(self, message: str, issues: list[dict[str, Any]]):
        super().__init__(message)
        self.issues = issues

    def fail_fields(self) -> dict[str, Any]:
        return {"issues": self.issues}


def check_definition(params: dict[str, Any], warn: Callable[[str], None]) -> dict[str, Any]:
    """The module result: the published model (``cluster``), the image plan (``images``) and every issue.

    Warnings are shown through ``warn``; errors, and warnings with ``fail_on_warnings``, raise DefinitionError.
    """
    cluster, issues = load_cluster(params["definition"])
    warnings = [issue for issue in issues if not issue.is_error]
    for warning in warnings:
        warn(str(warning))
    issue_dicts = [issue.to_dict() for issue in issues]
    failing = errors_of(issues) + (warnings if params.get("fail_on_warnings") else [])
    if cluster is None or failing:
        raise DefinitionError(format_issues(failing), issue_dicts)
    source = params.get("source")
    base_dir = os.path.dirname(os.path.realpath(source)) if source else os.getcwd()
    model, images = published_model(cluster, base_dir, params.get("selected_nodes"))
    return {"changed": False, "cluster": model, "images": images, "issues": issue_dicts}
