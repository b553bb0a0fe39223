"""The registry of simulators the sandbox can run.

To add one, write a package ``sandbox/simulators/<name>/`` whose ``__init__.py`` defines:

- ``NAME``: the simulator's name (lower case, ``-`` between words), used in URLs of the CLI, file names and ports;
- ``DEFAULT_PORT``: its fixed port when run by ``python -m sandbox start`` (18701, 18702, ...);
- ``create_app(state_dir, options) -> SimulatorApp``: builds the app (a :class:`sandbox.httpbase.SimulatorApp`);
- optionally ``OPTIONS``: a dict of option name -> one-line description, shown by ``python -m sandbox options``;

then add it to ``SIMULATORS`` below. See docs/sandbox.md, "Adding a simulator".

``sandbox/simulators/talos/`` is not in the registry: the Talos nodes are not served over HTTP; the cloud
simulators boot them and the talosctl stand-in talks to them.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

SIMULATORS: dict[str, str] = {
    "image-factory": "sandbox.simulators.image_factory",
    "proxmox": "sandbox.simulators.proxmox",
    "hcloud": "sandbox.simulators.hcloud",
    "charts": "sandbox.simulators.charts",
}

PORT_ENV_PREFIX = "TALOSFORGE_SANDBOX_PORT_"


def names() -> list[str]:
    return list(SIMULATORS)


def load(name: str) -> ModuleType:
    """The simulator module for ``name``; raises KeyError with the known names when there is none."""
    if name not in SIMULATORS:
        raise KeyError(f"unknown simulator {name!r}; known: {', '.join(SIMULATORS)}")
    module = importlib.import_module(SIMULATORS[name])
    for attribute in ("NAME", "DEFAULT_PORT", "create_app"):
        if not hasattr(module, attribute):
            raise TypeError(f"simulator module {module.__name__} lacks {attribute}")
    return module


def port_env_var(name: str) -> str:
    """``TALOSFORGE_SANDBOX_PORT_IMAGE_FACTORY`` for ``image-factory``."""
    return PORT_ENV_PREFIX + name.upper().replace("-", "_")


def configured_port(name: str) -> int:
    """The port ``start`` uses: the environment override, else the simulator's default."""
    value = os.environ.get(port_env_var(name))
    if value:
        try:
            port = int(value)
        except ValueError:
            raise ValueError(f"{port_env_var(name)}={value!r} is not a port number") from None
        if not 0 <= port <= 65535:
            raise ValueError(f"{port_env_var(name)}={value!r} is not a port number")
        return port
    return int(load(name).DEFAULT_PORT)


def create_app(name: str, state_dir: str | os.PathLike[str], options: dict[str, Any] | None = None) -> Any:
    return load(name).create_app(Path(state_dir), dict(options or {}))
