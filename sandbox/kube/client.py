"""A small JSON client of a sandbox cluster's kube-apiserver, for one identity (a client certificate).

The sandbox itself talks to the API server in two places: readiness checks (as its admin) and the kubelet stand-in
(as each node, and as the admin for what Talos's machined does). Tests use the ``kubernetes`` library instead.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

USER_AGENT = "talosforge-sandbox/v1.36.3"


class Api:
    def __init__(self, url: str, ca_file: Path, cert_file: Path, key_file: Path) -> None:
        self.url = url
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.context.load_cert_chain(str(cert_file), str(key_file))

    @classmethod
    def admin(cls, url: str, pki_dir: Path) -> Api:
        """The sandbox's own admin (system:masters), whose certificate kube-apiserver's start writes."""
        return cls(url, pki_dir / "ca.crt", pki_dir / "sandbox-admin.crt", pki_dir / "sandbox-admin.key")

    def call(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json", timeout: float = 10
    ) -> Any:
        """The answer decoded from JSON (or its text, as ``/readyz`` answers); None for a GET or DELETE of
        something that does not exist; urllib's errors otherwise."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=timeout) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as error:
            if error.code == 404 and method in ("GET", "DELETE"):
                return None
            raise
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError:
            return text
