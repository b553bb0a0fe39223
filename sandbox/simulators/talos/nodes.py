"""The sandbox's Talos nodes from Python: what simulators, tests, benchmarks and ``python -m sandbox talos`` use."""

from __future__ import annotations

import os

from . import TALOS_VERSION, lifecycle
from .state import VANILLA_SCHEMATIC, Cluster, Node, NodeNotFound, Store


class TalosNodes:
    """The nodes of one sandbox state folder: add, look up, fault, boot and remove them."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.store = Store(state_dir)

    def add(
        self,
        *addresses: str,
        version: str = TALOS_VERSION,
        schematic: str = VANILLA_SCHEMATIC,
        install_calls: int = 0,
        platform: str = "metal",
    ) -> list[Node]:
        with self.store.locked():
            return [
                lifecycle.add(self.store, address, version, schematic, install_calls, platform) for address in addresses
            ]

    def get(self, address: str) -> Node:
        node = self.store.node(address)
        if node is None:
            raise NodeNotFound(f"no Talos node {address} in the sandbox")
        return node

    def list(self) -> list[Node]:
        return self.store.nodes()

    def set_fault(self, address: str, fault: str, calls: int = 2) -> Node:
        with self.store.locked():
            return lifecycle.set_fault(self.store, address, fault, calls)

    def clear_faults(self, address: str) -> Node:
        return self.set_fault(address, "clear")

    def remove(self, address: str) -> bool:
        with self.store.locked():
            return self.store.remove(address)

    def boot(self, address: str) -> Node:
        with self.store.locked():
            return lifecycle.boot(self.store, address)

    def config(self, address: str) -> str | None:
        return self.store.config(address)

    def cluster_of(self, address: str) -> Cluster | None:
        node = self.get(address)
        return self.store.cluster(node.cluster_id) if node.cluster_id else None
