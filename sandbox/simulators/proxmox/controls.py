"""The PVE simulator's own controls, under ``/_sandbox/proxmox/`` (part of no real API), and their Python API.

- ``POST task-latency`` ``{"seconds": 0.5}`` or ``{"seconds": 2, "type": "qmstart"}``: how long tasks run;
- ``POST task-failures`` ``{"type": "qmstart", "message": "...", "count": 1}``: the next task(s) of that type fail
  (``"type": "*"``: any type); ``DELETE task-failures`` forgets them;
- ``POST lock-timeouts`` ``{"vmid": 100, "count": 1}`` (``"*"``: any VM): ``can't lock file ... - got timeout``;
- ``POST storage`` ``{"node": "pve1", "storage": "local", "total": 1073741824}`` or ``{..., "full": true}``;
- ``GET tasks``: every task's status and log.
"""

from __future__ import annotations

from typing import Any

from ...httpbase import CONTROL_PREFIX, HTTPError, Request, Response

PREFIX = CONTROL_PREFIX + "proxmox/"


def set_task_latency(app: Any, seconds: float, kind: str | None = None) -> None:
    app.tasks.set_latency(seconds, kind)


def fail_next_task(app: Any, kind: str, message: str = "simulated task failure", count: int = 1) -> None:
    app.tasks.fail_next(kind, message, count)


def lock_timeout(app: Any, vmid: int | str = "*", count: int = 1) -> None:
    if not isinstance(count, int) or not 1 <= count <= 10_000:
        raise ValueError("count must be an integer from 1 to 10000")
    with app._lock_faults_guard:
        app.lock_faults[str(vmid)] = app.lock_faults.get(str(vmid), 0) + count


def set_storage_total(app: Any, node: str, storage: str, total: int | None = None, full: bool = False) -> int:
    """Set a storage's capacity in bytes; ``full`` makes it exactly as large as what it holds (0 bytes free)."""
    with app.cluster.lock:
        target = app.cluster.nodes.get(node, None)
        chosen = target.storages.get(storage) if target else None
        if chosen is None:
            raise ValueError(f"no storage {storage!r} on node {node!r}")
        if full:
            chosen.total = chosen.used
        elif isinstance(total, int) and not isinstance(total, bool) and total >= 0:
            chosen.total = total
        else:
            raise ValueError("give total (bytes, 0 or more) or full: true")
        app.cluster.save()
        return int(chosen.total)


def task_list(app: Any) -> list[dict[str, Any]]:
    return [{**task.status_data(), "log": list(task.log)} for task in app.tasks.all()]


def handle(app: Any, request: Request) -> Response | None:
    """Answer a /_sandbox/proxmox/... request, or None for the base controls."""
    if not request.path.startswith(PREFIX):
        return None
    action = (request.method, request.path[len(PREFIX) :].strip("/"))
    try:
        body = request.json() if request.method == "POST" else None
        if body is not None and not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        if action == ("POST", "task-latency"):
            set_task_latency(app, body.get("seconds", 0), body.get("type"))
            return Response.json(200, {"task_latency": app.tasks.latency()})
        if action == ("GET", "task-latency"):
            return Response.json(200, {"task_latency": app.tasks.latency()})
        if action == ("POST", "task-failures"):
            fail_next_task(app, str(body["type"]), body.get("message", "simulated task failure"), body.get("count", 1))
            return Response.json(201, {"task_failures": app.tasks.failures()})
        if action == ("DELETE", "task-failures"):
            app.tasks.clear_failures()
            return Response.json(200, {"task_failures": []})
        if action == ("POST", "lock-timeouts"):
            lock_timeout(app, body.get("vmid", "*"), body.get("count", 1))
            return Response.json(201, {"lock_timeouts": dict(app.lock_faults)})
        if action == ("POST", "storage"):
            total = set_storage_total(
                app, str(body["node"]), str(body["storage"]), body.get("total"), bool(body.get("full"))
            )
            return Response.json(200, {"total": total})
        if action == ("GET", "tasks"):
            return Response.json(200, task_list(app))
    except (ValueError, KeyError, TypeError) as error:
        return Response.json(400, {"error": str(error)})
    except HTTPError as error:
        return Response.json(error.status, {"error": error.message})
    return Response.json(404, {"error": f"no control endpoint {request.method} {request.path}"})
