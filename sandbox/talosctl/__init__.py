"""A stand-in for talosctl and the sandbox's Talos nodes (a simulator, test tooling only).

- :mod:`sandbox.talosctl.contract`: the talosctl command-line contract, read from the CLI reference (cli.md);
  ``load(path).check(argv)`` lists what the real talosctl would refuse in a command line.
- :mod:`sandbox.talosctl.cli`: the executable behind ``sandbox/bin/talosctl``.
- :mod:`sandbox.talosctl.talos_config`: ``gen secrets``, ``gen config``, ``validate`` and the nodes' config checks
  run Talos's own code, the ``talos-config`` program built by :mod:`sandbox.gotools`.
- :mod:`sandbox.talosctl.state`: the simulated nodes, kept in ``<state>/talos/``.
- :mod:`sandbox.talosctl.nodes_cli`: ``python -m sandbox talos add|list|fault|remove|boot``.

See docs/talosctl-standin.md.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = REPO_ROOT / "tests" / "contracts" / "talos" / "v1.13.9"
CLI_MD = CONTRACT_DIR / "cli.md"
SCHEMA_JSON = CONTRACT_DIR / "config.schema.json"
TALOS_VERSION = "v1.13.9"
LOG_NAME = "talosctl"
