"""Reading a sandbox node's machine config: its v1alpha1 document (the one without a ``kind``)."""

from __future__ import annotations

from typing import Any

import yaml


def v1alpha1(config_text: str) -> dict[str, Any]:
    for document in yaml.safe_load_all(config_text):
        if isinstance(document, dict) and "kind" not in document:
            return document
    raise ValueError("the machine config has no v1alpha1 document")
