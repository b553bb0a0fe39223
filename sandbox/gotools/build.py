"""Compile the sandbox's Go programs from their wrapper modules, skipping any whose inputs did not change.

A program's stamp is the SHA-256 of everything that decides its bytes: the family's go.mod, go.sum and Go files,
the package, tags and flags, and the Go version. When ``<bin>/<name>.stamp`` holds that digest and the binary is
there, nothing runs (a warm build compiles nothing, not even a cached ``go build``). Every build prints what it
builds, from which module version, and how long it took, and appends a record to ``<bin>/builds.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .programs import PROGRAMS, Program, bin_dir


class BuildError(RuntimeError):
    pass


def _go(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    try:
        result = subprocess.run(["go", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BuildError("the go command is not on PATH (Go 1.26 is needed to build the sandbox's programs)") from None
    if result.returncode != 0:
        raise BuildError(f"go {' '.join(args)} (in {cwd}) failed:\n{result.stderr.strip()}")
    return result.stdout.strip()


def go_version() -> str:
    return _go("env", "GOVERSION", cwd=Path.cwd())


def module_version(program: Program) -> str:
    """The version of the program's module that the wrapper's go.mod selects."""
    return _go("list", "-m", "-f", "{{.Version}}", program.module, cwd=program.module_dir)


def _ldflags(program: Program, version: str) -> str:
    flags = ["-s", "-w"]
    if program.ldflags is not None:
        flags += program.ldflags(version)  # type: ignore[operator]
    return " ".join(flags)


def stamp(program: Program, go: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(program.module_dir.iterdir()):
        if path.name in ("go.mod", "go.sum") or path.suffix == ".go":
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    template = program.ldflags.__name__ if program.ldflags is not None else ""  # type: ignore[attr-defined]
    digest.update(json.dumps([program.name, program.package, program.tags, template, go]).encode())
    return digest.hexdigest()


def up_to_date(program: Program, go: str) -> bool:
    target = bin_dir() / program.name
    stamp_file = bin_dir() / f"{program.name}.stamp"
    return target.exists() and stamp_file.exists() and stamp_file.read_text().strip() == stamp(program, go)


def build(program: Program, go: str, say=print) -> float:
    """Compile one program (always); returns the seconds it took."""
    version = module_version(program)
    out = bin_dir()
    out.mkdir(parents=True, exist_ok=True)
    say(f"building {program.name} from {program.module} {version} ({program.family}/go.mod)")
    started = time.monotonic()
    env = {**os.environ, "CGO_ENABLED": "0", **program.extra_env}
    args = ["build", "-trimpath", "-ldflags", _ldflags(program, version), "-o", str(out / f"{program.name}.tmp")]
    if program.tags:
        args += ["-tags", ",".join(program.tags)]
    _go(*args, program.package, cwd=program.module_dir, env=env)
    os.replace(out / f"{program.name}.tmp", out / program.name)
    seconds = time.monotonic() - started
    (out / f"{program.name}.stamp").write_text(stamp(program, go) + "\n")
    with (out / "builds.jsonl").open("a", encoding="utf-8") as log:
        record = {"program": program.name, "module": program.module, "version": version, "go": go}
        log.write(json.dumps({**record, "seconds": round(seconds, 1), "ts": time.time()}) + "\n")
    say(f"built {program.name} in {seconds:.1f} s")
    return seconds


def build_all(names: list[str] | None = None, tier: int = 3, say=print) -> dict[str, float]:
    """Build the named programs (default: every program of ``tier`` and below); 0.0 for those up to date."""
    chosen = [PROGRAMS[name] for name in names] if names else [p for p in PROGRAMS.values() if p.tier <= tier]
    go = go_version()
    spent: dict[str, float] = {}
    started = time.monotonic()
    for program in chosen:
        if up_to_date(program, go):
            say(f"{program.name}: up to date")
            spent[program.name] = 0.0
            continue
        spent[program.name] = build(program, go, say)
    say(f"Go programs ready in {bin_dir()} ({time.monotonic() - started:.1f} s, {go})")
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.gotools", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build what is missing or changed")
    build_cmd.add_argument("names", nargs="*", choices=[*PROGRAMS, []], metavar="NAME", help="programs (default: all)")
    build_cmd.add_argument(
        "--tier",
        type=int,
        default=3,
        choices=(1, 2, 3),
        help="1: only etcd, kube-apiserver, helm, talos-config; 2 adds the controllers of workloads and kwok; 3 (the "
        "default) adds Flux's controllers, sops and age-keygen",
    )
    commands.add_parser("list", help="each program, its tier and whether it is built")
    args = parser.parse_args(argv)
    if args.command == "list":
        go = go_version()
        for program in PROGRAMS.values():
            state = "built" if up_to_date(program, go) else "not built"
            print(f"{program.name:26} tier {program.tier}  {program.module:42} {state}")
        return 0
    try:
        build_all(args.names or None, args.tier, say=lambda text: print(text, file=sys.stderr, flush=True))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
