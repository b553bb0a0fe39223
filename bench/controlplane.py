"""Benchmark: the sandbox's real control plane, its Go programs and what it costs to run.

Prints, for each Go program of sandbox/gotools: the warm build (its stamp matches: nothing is compiled) and a
rebuild from the warm Go build cache (the stamp removed: what a change to one wrapper module costs); with
``--cold``, a cold build of every program into empty, temporary module and build caches (what CI pays on a fresh
machine; about a quarter of an hour on 2 cores). Then, for 1 and 3 control planes (plus one worker): the time from
``talosctl bootstrap`` to kube-apiserver's /readyz, the time until every Node object is registered, and the
resident memory of the running control plane (etcd members, kube-apiserver, the kubelet stand-in). Not a timed test.
Run with: bench/run controlplane [--cold]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "sandbox"))

from kube_testlib import LiveCluster, wait_for

from sandbox.gotools import PROGRAMS, bin_dir
from sandbox.gotools.build import build, build_all, go_version


def builds(cold: bool) -> None:
    go = go_version()
    print(f"{'program':26} {'tier':>4} {'warm s':>7} {'rebuild s':>10}" + (f" {'cold s':>8}" if cold else ""))
    cold_times: dict[str, float] = {}
    if cold:
        with tempfile.TemporaryDirectory(prefix="gotools-cold-") as scratch:
            saved = {key: os.environ.get(key) for key in ("GOCACHE", "GOMODCACHE", "TALOSFORGE_GOTOOLS_BIN")}
            os.environ.update(GOCACHE=f"{scratch}/cache", GOMODCACHE=f"{scratch}/mod", TALOSFORGE_GOTOOLS_BIN=scratch)
            try:
                for program in PROGRAMS.values():  # in order: each family's first program pays its downloads
                    cold_times[program.name] = build(program, go, say=lambda _text: None)
            finally:
                subprocess.run(["go", "clean", "-modcache"], check=False)  # its files are read-only
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
    for program in PROGRAMS.values():
        started = time.monotonic()
        build_all([program.name], tier=2, say=lambda _text: None)
        warm = time.monotonic() - started
        (bin_dir() / f"{program.name}.stamp").unlink(missing_ok=True)
        rebuild = build(program, go, say=lambda _text: None)
        line = f"{program.name:26} {program.tier:4} {warm:7.2f} {rebuild:10.1f}"
        if cold:
            line += f" {cold_times[program.name]:8.1f}"
        print(line, flush=True)


def _rss_kib(pid: int | None) -> int:
    if not pid:
        return 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def control_plane(control_planes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-controlplane-") as root:
        started = time.monotonic()
        live = LiveCluster.create(Path(root), control_planes=control_planes, workers=1, name="bench")
        to_ready = time.monotonic() - started
        try:
            wait_for(lambda: len(live.nodes()) == control_planes + 1, 60, "every node registered")
            registered = time.monotonic() - started
            real = live.real()
            etcd = sum(_rss_kib(real.etcd.daemon(member).pid) for member in real.etcd.running())
            apiserver = _rss_kib(real.apiserver.daemon.pid)
            kubelets = _rss_kib(real.kubelets.pid)
            total = (etcd + apiserver + kubelets) / 1024
            print(
                f"{control_planes:>3} cp + 1 worker   create to /readyz {to_ready:5.1f} s   nodes registered "
                f"{registered:5.1f} s   RSS etcd {etcd / 1024:6.1f} MiB  kube-apiserver {apiserver / 1024:6.1f} MiB  "
                f"kubelets {kubelets / 1024:5.1f} MiB  total {total:6.1f} MiB",
                flush=True,
            )
        finally:
            live.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also build every program with empty caches (slow)")
    parser.add_argument("--skip-builds", action="store_true")
    args = parser.parse_args()
    if not args.skip_builds:
        builds(args.cold)
    print()
    for count in (1, 3):
        control_plane(count)


if __name__ == "__main__":
    main()
