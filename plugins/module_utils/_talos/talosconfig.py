# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talosconfig that talos_machine_config writes: our endpoints, and a client certificate kept until it is due.

``talosctl gen config`` issues a new admin client certificate on every run. Writing it every time would make each
run a change, so the previous certificate is kept while it was issued by the same CA and stays valid for more than
``renew_before_days`` days; then the fresh one replaces it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    TalosConfigError,
    dump_document,
    load_documents,
)


def pem_expiry(data: str) -> datetime | None:
    """When the base64-encoded PEM certificate ``data`` expires (UTC); None when it is not one."""
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(base64.b64decode(data))
    except (ValueError, TypeError):
        return None
    expiry = getattr(certificate, "not_valid_after_utc", None)
    if expiry is None:  # cryptography < 42
        expiry = certificate.not_valid_after.replace(tzinfo=UTC)
    return expiry


def _context(document: Any, name: Any) -> dict[str, Any] | None:
    context = ((document or {}).get("contexts") or {}).get(name) if isinstance(document, dict) else None
    return context if isinstance(context, dict) else None


def render_talosconfig(
    generated_text: str,
    previous_text: str | None,
    endpoints: list[str] | None,
    renew_before_days: int = 30,
    now: datetime | None = None,
    default_endpoints: list[str] | None = None,
) -> tuple[str, datetime | None]:
    """gen config's talosconfig with ``endpoints``, keeping the previous client certificate while it is good.

    ``endpoints`` None keeps those of the previous talosconfig, else takes ``default_endpoints``. Returns the
    text and when its client certificate expires (None when that cannot be read).
    """
    generated = (load_documents(generated_text, "the generated talosconfig") or [None])[0]
    context_name = generated.get("context") if isinstance(generated, dict) else None
    context = _context(generated, context_name)
    if context is None:
        raise TalosConfigError(f"the talosconfig written by talosctl gen config has no context {context_name!r}")
    previous = None
    if previous_text:
        try:
            previous = (load_documents(previous_text, "the talosconfig")[:1] or [None])[0]
        except TalosConfigError:
            previous = None
    old = _context(previous, context_name)
    if endpoints is None:
        endpoints = (old or {}).get("endpoints") or default_endpoints or []
    context["endpoints"] = list(endpoints)
    if old and old.get("ca") == context.get("ca") and old.get("crt") and old.get("key"):
        expiry = pem_expiry(old["crt"])
        due = (now or datetime.now(UTC)) + timedelta(days=renew_before_days)
        if expiry is not None and expiry > due:
            context["crt"], context["key"] = old["crt"], old["key"]
    return dump_document(generated), pem_expiry(context.get("crt") or "")
