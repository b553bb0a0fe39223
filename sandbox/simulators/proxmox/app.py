"""The Proxmox VE simulator app: its core (core.py) and its API handlers, one mixin per group of endpoints."""

from __future__ import annotations

from .handlers_clone import CloneHandlers
from .handlers_cluster import ClusterHandlers
from .handlers_power import PowerHandlers
from .handlers_qemu import QemuHandlers
from .handlers_storage import StorageHandlers
from .handlers_transfer import TransferHandlers


class ProxmoxApp(ClusterHandlers, QemuHandlers, PowerHandlers, CloneHandlers, StorageHandlers, TransferHandlers):
    """The simulator; the pipeline is in api.dispatch, state and shared helpers in core.ProxmoxCore."""
