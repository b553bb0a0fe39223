"""The sandbox's real Git servers, on 127.0.0.1: sshd (port 18722) and nginx + git http-backend (port 18723).

See docs/sandbox-git.md. ``GitStore`` manages repositories, deploy keys and tokens; ``GitServers`` starts, checks
and stops the servers; ``running`` is a context manager for tests (free ports, stopped at the end).
"""

from __future__ import annotations

from .servers import (
    DEFAULT_HTTPS_PORT,
    DEFAULT_SSH_PORT,
    HTTPS_PORT_ENV,
    SSH_PORT_ENV,
    GitServers,
    ServerStatus,
    missing_programs,
    running,
)
from .store import GitStore, Repository

__all__ = [
    "DEFAULT_HTTPS_PORT",
    "DEFAULT_SSH_PORT",
    "HTTPS_PORT_ENV",
    "SSH_PORT_ENV",
    "GitServers",
    "GitStore",
    "Repository",
    "ServerStatus",
    "missing_programs",
    "running",
]
