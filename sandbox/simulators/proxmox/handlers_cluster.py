"""Handlers: version, nodes, cluster resources, next free VMID, and task status/log."""

from __future__ import annotations

import re
from typing import Any

from ...httpbase import operation
from .api import Call, PVEError
from .core import ProxmoxCore

PVE_VERSION = {"version": "9.1.4", "release": "9.1", "repoid": "5ab1c0de", "console": "html5"}
NODE_MEMORY = 64 << 30
UPID_PATTERN = re.compile(
    r"UPID:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:[^:\s]+:[^:\s]*:[^:\s]+:"
)
NODE_CPUS = 16


class ClusterHandlers(ProxmoxCore):
    """The version, the nodes, cluster resources, the next free VM ID and worker tasks."""

    @operation("GET", "/version")
    def version(self, call: Call) -> dict[str, Any]:
        return dict(PVE_VERSION)

    @operation("GET", "/nodes")
    def nodes(self, call: Call) -> list[dict[str, Any]]:
        return [
            {
                "node": name,
                "status": "online",
                "cpu": 0.02,
                "maxcpu": NODE_CPUS,
                "mem": self.node_memory_used(name),
                "maxmem": NODE_MEMORY,
                "uptime": self.uptime(),
                "level": "",
                "ssl_fingerprint": self.fingerprint,
            }
            for name in self.cluster.node_names
        ]

    @operation("GET", "/nodes/{node}")
    def node_index(self, call: Call) -> list[dict[str, Any]]:
        return [{"name": name} for name in ("qemu", "storage", "status", "tasks", "version")]

    @operation("GET", "/nodes/{node}/status")
    def node_status(self, call: Call) -> dict[str, Any]:
        used = self.node_memory_used(call.get("node"))
        return {
            "cpu": 0.02,
            "loadavg": ["0.10", "0.08", "0.05"],
            "pveversion": f"pve-manager/{PVE_VERSION['version']}/{PVE_VERSION['repoid']}",
            "boot-info": {"mode": "efi", "secureboot": 0},
            "cpuinfo": {
                "cores": NODE_CPUS,
                "cpus": NODE_CPUS,
                "model": "Simulated CPU (talosforge sandbox)",
                "sockets": 1,
            },
            "current-kernel": {
                "machine": "x86_64",
                "release": "6.14.11-4-pve",
                "sysname": "Linux",
                "version": "#1 SMP",
            },
            "memory": {"total": NODE_MEMORY, "used": used, "free": NODE_MEMORY - used, "available": NODE_MEMORY - used},
            "rootfs": {"total": 100 << 30, "used": 10 << 30, "free": 90 << 30, "avail": 90 << 30},
            "uptime": self.uptime(),
        }

    @operation("GET", "/cluster/resources")
    def cluster_resources(self, call: Call) -> list[dict[str, Any]]:
        wanted = call.get("type")
        result: list[dict[str, Any]] = []
        with self.cluster.lock:
            for name, node in self.cluster.nodes.items():
                if wanted in (None, "node"):
                    result.append(
                        {
                            "id": f"node/{name}",
                            "type": "node",
                            "node": name,
                            "status": "online",
                            "maxcpu": NODE_CPUS,
                            "maxmem": NODE_MEMORY,
                            "mem": self.node_memory_used(name),
                            "uptime": self.uptime(),
                        }
                    )
                if wanted in (None, "vm"):
                    for vm in sorted(node.vms.values(), key=lambda item: item.vmid):
                        summary = self.vm_summary(vm)
                        summary["maxcpu"] = summary.pop("cpus")
                        summary.pop("pid", None)
                        result.append({"id": f"qemu/{vm.vmid}", "type": "qemu", "node": name, **summary})
                if wanted in (None, "storage"):
                    for storage in node.storages.values():
                        result.append(
                            {
                                "id": f"storage/{name}/{storage.name}",
                                "type": "storage",
                                "node": name,
                                "storage": storage.name,
                                "plugintype": storage.type,
                                "content": ",".join(storage.content),
                                "status": "available",
                                "disk": storage.used,
                                "maxdisk": storage.total,
                            }
                        )
        return result

    @operation("GET", "/cluster/nextid")
    def nextid(self, call: Call) -> int:
        wanted = call.get("vmid")
        if wanted is not None:
            if self.cluster.vm_anywhere(wanted) is not None:
                raise PVEError(400, "Parameter verification failed.", {"vmid": f"VM {wanted} already exists"})
            return int(wanted)
        return self.cluster.next_free_vmid()

    @operation("GET", "/nodes/{node}/tasks/{upid}/status")
    def task_status(self, call: Call) -> dict[str, Any]:
        return _task(self, call).status_data()

    @operation("GET", "/nodes/{node}/tasks/{upid}/log")
    def task_log(self, call: Call) -> list[dict[str, Any]]:
        task = _task(self, call)
        start, limit = int(call.get("start", 0)), int(call.get("limit", 50))
        lines = list(task.log)
        chosen = lines[start : start + limit] if limit else lines[start:]
        return [{"n": start + position + 1, "t": text} for position, text in enumerate(chosen)]

    @operation("GET", "/nodes/{node}/tasks")
    def task_list(self, call: Call) -> list[dict[str, Any]]:
        """Newest first; ``source`` archive (default: finished tasks), active or all; the documented filters."""
        source = call.get("source", "archive")
        result = []
        for task in sorted(self.tasks.all(), key=lambda item: (item.starttime, item.pid), reverse=True):
            finished = task.exitstatus is not None
            if (
                task.node != call.get("node")
                or (source == "archive" and not finished)
                or (source == "active" and finished)
            ):
                continue
            if call.get("typefilter") not in (None, task.type) or call.get("userfilter") not in (None, task.user):
                continue
            if call.get("vmid") is not None and task.id != str(call.get("vmid")):
                continue
            if call.get("errors") and task.exitstatus in (None, "OK"):
                continue
            if call.get("since") is not None and task.starttime < call.get("since"):
                continue
            if call.get("until") is not None and task.starttime > call.get("until"):
                continue
            item = {key: value for key, value in task.status_data().items() if key != "exitstatus"}
            item.pop("status")
            if finished:
                item["status"] = task.exitstatus
                item["endtime"] = task.endtime
            result.append(item)
        start, limit = int(call.get("start", 0)), int(call.get("limit", 50))
        return result[start : start + limit] if limit else result[start:]


def _task(app: ProxmoxCore, call: Call) -> Any:
    upid = str(call.get("upid"))
    if not UPID_PATTERN.fullmatch(upid):
        raise PVEError(500, f"unable to parse worker upid '{upid}'")
    fields = upid.split(":")
    task = app.tasks.get(upid)
    if task is None or task.node != call.get("node"):
        raise PVEError(
            500, f"unable to open file '/var/log/pve/tasks/{fields[4][-1:]}/{upid}' - No such file or directory"
        )
    return task
