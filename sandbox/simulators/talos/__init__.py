"""The sandbox's Talos nodes: their state, their machine configs, how they boot, install, reboot and reset.

Not an HTTP simulator (it is not in :data:`sandbox.simulators.SIMULATORS`): the nodes are records under
``<state>/talos/`` that the other simulators create and the talosctl stand-in (:mod:`sandbox.talosctl`) talks to.

- :mod:`.state`: the node and cluster records on disk (:class:`~.state.Store`);
- :mod:`.lifecycle`: what happens to a node (add, install, reboot, join or leave etcd, wipe);
- :mod:`.nodes`: :class:`~.nodes.TalosNodes`, the Python API for simulators, tests and benchmarks;
- :mod:`.nodes_cli`: ``python -m sandbox talos add|list|show|fault|remove|boot``;
- :mod:`.control_plane`: where the nodes meet the real etcd and kube-apiserver of :mod:`sandbox.kube`;
- :mod:`.canonical`, :mod:`.configdiff`, :mod:`.yamlio`: machine configs as a node encodes, compares and writes
  them; :mod:`.kubeconfig` and :mod:`.pki`: the credentials a node hands out; :mod:`.resources`: what it serves
  to ``talosctl get``; :mod:`.errors`: how its API answers a failure.

Nothing here imports from :mod:`sandbox.talosctl` (the CLI depends on the nodes, not the other way round) nor from
the collection. See docs/talosctl-standin.md.
"""

from __future__ import annotations

from ...paths import REPO_ROOT

TALOS_VERSION = "v1.13.9"
CONTRACT_DIR = REPO_ROOT / "tests" / "contracts" / "talos" / TALOS_VERSION
SCHEMA_JSON = CONTRACT_DIR / "config.schema.json"
