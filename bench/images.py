"""Benchmark: registering N schematics and downloading N images, our list modules against a per-item loop.

For N in (3, 10, 50) it runs two playbooks against the sandbox Image Factory simulator (on loopback, with a fixed
per-request latency standing in for the real factory's round trip):

- ours: one task, talosforge.cluster.image_factory_schematic with ``schematics`` (parallel inside the module),
  then talosforge.cluster.image_factory_image with ``images`` (parallel downloads);
- baseline: the obvious playbook, a ``loop`` over the single-item form of the same modules.

Each is run twice: first run (everything to do) and re-run (nothing to do). It prints wall time and the number of
requests the simulator received. Not a timed test: nothing fails on a number; read the table against the last one.
Run with: bench/run images
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchlib import first_run_and_rerun, run_playbook

from sandbox.harness import running

VERSION = "v1.13.9"

PLAYBOOK_OURS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - talosforge.cluster.image_factory_schematic:
        url: "{{ factory }}"
        schematics: "{{ schematics }}"
      register: registered
    - talosforge.cluster.image_factory_image:
        url: "{{ factory }}"
        dest_dir: "{{ cache }}"
        images: "{{ registered.ids | map('community.general.dict_kv', 'schematic_id')
                   | map('combine', {'talos_version': version, 'platform': 'metal', 'format': 'raw.xz'}) }}"
"""

PLAYBOOK_BASELINE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - talosforge.cluster.image_factory_schematic:
        url: "{{ factory }}"
        schematic: "{{ item }}"
      loop: "{{ schematics }}"
      register: registered
    - talosforge.cluster.image_factory_image:
        url: "{{ factory }}"
        dest_dir: "{{ cache }}"
        schematic_id: "{{ item.id }}"
        talos_version: "{{ version }}"
        platform: metal
        format: raw.xz
      loop: "{{ registered.results }}"
"""


def schematics(count: int) -> list[dict]:
    """``count`` distinct schematics (each with its own kernel argument)."""
    return [{"customization": {"extraKernelArgs": [f"talosforge.bench={index}"]}} for index in range(count)]


def measure(variant: str, count: int, latency_ms: float, image_kib: int) -> list[tuple[str, float, int]]:
    playbook = PLAYBOOK_OURS if variant == "ours" else PLAYBOOK_BASELINE
    with tempfile.TemporaryDirectory(prefix="talosforge-bench-") as tmp:
        workdir = Path(tmp)
        with running("image-factory", workdir / "state", raw_image_size=image_kib * 1024) as factory:
            factory.set_latency(latency_ms)
            extra = {
                "factory": factory.url,
                "cache": str(workdir / "cache"),
                "version": VERSION,
                "schematics": schematics(count),
            }
            return first_run_and_rerun(lambda: run_playbook(playbook, extra, workdir), lambda: len(factory.requests()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[3, 10, 50])
    parser.add_argument("--latency-ms", type=float, default=100.0, help="simulated latency per request")
    parser.add_argument("--image-kib", type=int, default=256, help="size of each simulated raw image")
    args = parser.parse_args()
    print(f"images: N schematics registered and N images downloaded; simulator latency {args.latency_ms:.0f} ms")
    print(f"{'N':>4}  {'variant':<9} {'phase':<10} {'wall s':>8} {'requests':>9}")
    for count in args.counts:
        for variant in ("ours", "baseline"):
            for phase, seconds, requests in measure(variant, count, args.latency_ms, args.image_kib):
                print(f"{count:>4}  {variant:<9} {phase:<10} {seconds:>8.2f} {requests:>9}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
