"""A stand-in for the talosctl command line (test tooling only); the nodes it talks to are
:mod:`sandbox.simulators.talos`.

- :mod:`sandbox.talosctl.contract`: the talosctl command-line contract, read from the CLI reference (cli.md);
  ``load(path).check(argv)`` lists what the real talosctl would refuse in a command line.
- :mod:`sandbox.talosctl.cli`: the executable behind ``sandbox/bin/talosctl``.
- :mod:`sandbox.talosctl.talos_config`: ``gen secrets``, ``gen config``, ``validate`` and the nodes' config checks
  run Talos's own code, the ``talos-config`` program built by :mod:`sandbox.gotools`.
- :mod:`sandbox.talosctl.transport`: how one call reaches the nodes (talosconfig, endpoints, apid, maintenance).
- :mod:`sandbox.talosctl.resident`: one process that forks a child per call (what ``sandbox/bin/talosctl`` uses).

See docs/talosctl-standin.md.
"""

from __future__ import annotations

from ..simulators.talos import CONTRACT_DIR

CLI_MD = CONTRACT_DIR / "cli.md"
LOG_NAME = "talosctl"
