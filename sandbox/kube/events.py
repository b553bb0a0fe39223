"""Events the sandbox's stand-in controllers record about the objects they act on, as the real controllers do."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from .client import Api


def post_event(api: Api, involved: dict[str, Any], kind: str, reason: str, message: str, component: str) -> None:
    """Record a ``kind`` (Normal or Warning) event about ``involved`` ({apiVersion, kind, name, namespace, uid, ...});
    a cluster-scoped object's event goes to the ``default`` namespace, as Kubernetes' own recorders put it."""
    namespace = involved.get("namespace") or "default"
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
        "involvedObject": {key: value for key, value in involved.items() if value is not None},
        "reason": reason,
        "message": message,
        "type": kind,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    api.call("POST", f"/api/v1/namespaces/{namespace}/events", body)
