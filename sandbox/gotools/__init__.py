"""Real upstream programs the sandbox runs, compiled from their published Go modules.

Each tool family is a small wrapper module of ours under this folder (``go.mod`` and ``go.sum`` committed, built
binaries never): ``kube`` (kube-apiserver, and in the second tier kube-controller-manager and kube-scheduler, from
``k8s.io/kubernetes`` with every staging module replaced by its published version), ``etcd``
(``go.etcd.io/etcd/server/v3``, etcdctl, etcdutl), ``helm`` (``helm.sh/helm/v4``), ``talos`` (a small main of
ours on Talos's ``pkg/machinery``: ``gen secrets``, ``gen config`` and ``validate`` with talosctl's flags and
words) and, in the second tier, ``kwok`` (``sigs.k8s.io/kwok``).

``python -m sandbox.gotools build`` compiles them into ``.build/gotools/bin/`` (``--tier 1``: the first tier
only); a program whose inputs (the family's go.mod, go.sum and Go files, the flags and the Go version) are
unchanged is not built again. :func:`binary` is how the sandbox finds one: a missing program is an error that
says how to build it, never a silent fallback to a simulator. See docs/sandbox-gotools.md.
"""

from __future__ import annotations

from .programs import PROGRAMS, Program, bin_dir, binary

__all__ = ["PROGRAMS", "Program", "bin_dir", "binary"]
