"""How a simulated node's API answers a failure: gRPC status text, and one node's failure as apid reports it."""

from __future__ import annotations


def rpc(code: str, description: str) -> str:
    return f"rpc error: code = {code} desc = {description}"


class NodeFailure(Exception):
    """One node's error, as apid reports it for that node."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
