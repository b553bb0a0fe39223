# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Read a kubeconfig into what one HTTPS connection to the API server needs: URL, TLS context, token.

Supported credentials: a client certificate and key (inline ``-data`` or file paths), a bearer token (inline or
``tokenFile``). ``exec`` and ``auth-provider`` users are refused with a clear error (not supported yet).
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError


class KubeconfigError(InputError):
    """A kubeconfig that cannot be read or used; nothing was sent."""


@dataclass
class Connection:
    """Where and how to reach the API server: ``scheme``, ``host``, ``port``, ``base_path`` (a proxy's prefix)."""

    server: str
    scheme: str
    host: str
    port: int
    base_path: str
    context: ssl.SSLContext | None
    server_hostname: str | None
    token: str | None
    namespace: str


def _entry(data: dict[str, Any], section: str, name: Any, source: str) -> dict[str, Any]:
    for item in data.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get(section[:-1]) or {}
    raise KubeconfigError(f"{source}: no {section[:-1]} named {name!r} (it has {_names(data, section)})")


def _names(data: dict[str, Any], section: str) -> str:
    names = [str(item.get("name")) for item in data.get(section) or [] if isinstance(item, dict)]
    return ", ".join(names) or "none"


def parse(text: str, source: str, context_name: str | None = None) -> dict[str, Any]:
    """The cluster, user and namespace of ``context_name`` (default: current-context) as one mapping.

    Returns ``{"cluster": {...}, "user": {...}, "namespace": str, "context": name}``.
    """
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KubeconfigError(f"{source} is not a kubeconfig (a mapping with clusters, users and contexts)")
    name = context_name or data.get("current-context")
    if not name:
        contexts = data.get("contexts") or []
        if len(contexts) != 1:
            raise KubeconfigError(f"{source} has no current-context; choose one of {_names(data, 'contexts')}")
        name = contexts[0].get("name")
    context = _entry(data, "contexts", name, source)
    cluster = _entry(data, "clusters", context.get("cluster"), source)
    user = _entry(data, "users", context.get("user"), source) if context.get("user") else {}
    if user.get("exec") or user.get("auth-provider"):
        kind = "exec" if user.get("exec") else "auth-provider"
        raise KubeconfigError(
            f"{source}: user {context.get('user')!r} authenticates with {kind}, which kube_objects does not support "
            "yet; use a kubeconfig with a client certificate or a token (talos_kubeconfig writes one)"
        )
    if not cluster.get("server"):
        raise KubeconfigError(f"{source}: cluster {context.get('cluster')!r} has no server")
    return {"cluster": cluster, "user": user, "namespace": context.get("namespace") or "default", "context": name}


def _data(entry: dict[str, Any], key: str, folder: str, source: str) -> bytes | None:
    """``<key>-data`` (base64) or the file ``<key>`` (relative to the kubeconfig's folder), or None."""
    inline = entry.get(f"{key}-data")
    if inline:
        try:
            return base64.b64decode(str(inline), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KubeconfigError(f"{source}: {key}-data is not valid base64") from exc
    path = entry.get(key)
    if not path:
        return None
    path = os.path.join(folder, os.path.expanduser(str(path)))
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise KubeconfigError(f"{source}: cannot read {key} {path}: {exc.strerror}") from exc


def connection(path: str, context_name: str | None = None) -> Connection:
    """A Connection from the kubeconfig file at ``path``; the client key only lives in the TLS context.

    The certificate and key are written to a 0600 scratch file in the kubeconfig's own folder (``ssl`` loads a
    key only from a file) and removed as soon as they are loaded.
    """
    path = os.path.abspath(os.path.expanduser(path))
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise KubeconfigError(f"cannot read the kubeconfig {path}: {exc.strerror}") from exc
    return connection_from(parse(text, path, context_name), os.path.dirname(path), path)


def connection_from(config: dict[str, Any], folder: str, source: str) -> Connection:
    cluster, user = config["cluster"], config["user"]
    server = str(cluster["server"])
    parsed = urllib.parse.urlsplit(server)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise KubeconfigError(f"{source}: server {server!r} is not an http(s) URL")
    context = None
    if parsed.scheme == "https":
        ca = _data(cluster, "certificate-authority", folder, source)
        # the cluster's CA alone when the kubeconfig names one (as kubectl trusts it), else the system's CAs
        context = ssl.create_default_context(cafile=None) if not ca else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if ca:
            try:
                context.load_verify_locations(cadata=ca.decode("ascii", errors="replace"))
            except ssl.SSLError as exc:
                raise KubeconfigError(f"{source}: certificate-authority is not a PEM certificate: {exc}") from exc
        if cluster.get("insecure-skip-tls-verify"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        cert = _data(user, "client-certificate", folder, source)
        key = _data(user, "client-key", folder, source)
        if bool(cert) != bool(key):
            raise KubeconfigError(f"{source}: a client certificate needs its key and the key its certificate")
        if cert and key:
            _load_client_pair(context, cert, key, folder, source)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token_bytes = _data({"token": user["tokenFile"]}, "token", folder, source) or b""
        token = token_bytes.decode("utf-8").strip()
    if not token and user.get("username"):
        raise KubeconfigError(f"{source}: basic authentication (username/password) is not supported")
    return Connection(
        server=server,
        scheme=parsed.scheme,
        host=parsed.hostname,
        port=parsed.port or (443 if parsed.scheme == "https" else 80),
        base_path=parsed.path.rstrip("/"),
        context=context,
        server_hostname=cluster.get("tls-server-name") or None,
        token=str(token) if token else None,
        namespace=str(config["namespace"]),
    )


def _load_client_pair(context: ssl.SSLContext, cert: bytes, key: bytes, folder: str, source: str) -> None:
    descriptor, pair_path = scratch.scratch_file(folder, "kube-client", ".pem")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(cert.rstrip(b"\n") + b"\n" + key)
        context.load_cert_chain(pair_path)
    except ssl.SSLError as exc:
        raise KubeconfigError(f"{source}: the client certificate and key cannot be loaded: {exc}") from exc
    finally:
        scratch.remove(pair_path)
