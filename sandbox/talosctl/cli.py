"""The stand-in's entry point: parse like talosctl, run the command against the sandbox state, log the call.

Every call is appended to ``<state>/logs/talosctl.jsonl`` as one JSON line: ``ts``, ``argv`` (without the binary),
``command``, ``cwd``, ``exit_code``, ``duration_ms``, ``pid``, ``ppid`` (the resident stand-in's pid when it ran the
call, see :mod:`sandbox.talosctl.resident`) and, for a failure, ``error`` (its first line).
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from ..simulators.talos.state import utc_now
from . import CLI_MD, LOG_NAME, talos_config
from .argv import UsageError, find_command
from .cli_model import Command
from .contract import Contract, load
from .errors import TalosctlError
from .runtime import Runtime

STATE_DIR_ENV = "TALOSFORGE_SANDBOX_DIR"
CLI_MD_ENV = "TALOSFORGE_TALOSCTL_CLI_MD"

# A command returns None (success) or its exit code; gen and validate are Talos's own code (talos_config.py).
IMPLEMENTED = {
    ("gen", "secrets"): "talos_config:hand_off",
    ("gen", "config"): "talos_config:hand_off",
    ("validate",): "talos_config:hand_off",
    ("apply-config",): "commands_apply:apply_config",
    ("bootstrap",): "commands_apply:bootstrap",
    ("kubeconfig",): "commands_apply:kubeconfig",
    ("version",): "commands_info:version",
    ("get",): "commands_info:get",
    ("etcd", "members"): "commands_etcd:members",
    ("etcd", "status"): "commands_etcd:status",
    ("etcd", "snapshot"): "commands_etcd:snapshot",
    ("etcd", "leave"): "commands_etcd:leave",
    ("health",): "commands_health:health",
    ("upgrade",): "commands_ops:upgrade",
    ("upgrade-k8s",): "commands_ops:upgrade_k8s",
    ("reset",): "commands_ops:reset",
    ("config", "endpoint"): "commands_config:endpoint",
    ("config", "node"): "commands_config:node",
    ("config", "merge"): "commands_config:merge",
    ("config", "info"): "commands_config:info",
    ("config", "contexts"): "commands_config:contexts",
    ("config", "context"): "commands_config:context",
}


def state_dir(env: dict[str, str]) -> Path:
    return Path(env.get(STATE_DIR_ENV) or Path(__file__).resolve().parents[2] / ".sandbox").expanduser().resolve()


def help_text(command: Command) -> str:
    lines = [command.summary or command.name, ""]
    if command.usage:
        lines += ["Usage:", f"  {command.usage}", ""]
    if command.children:
        lines += ["Available Commands:"] + [f"  {child}" for child in sorted(command.children)] + [""]
    own = [flag for flag in command.flags.values() if not flag.inherited]
    inherited = [flag for flag in command.flags.values() if flag.inherited]
    for title, group in (("Flags:", own), ("Global Flags:", inherited)):
        if group:
            lines.append(title)
            for flag in group:
                short = f"-{flag.short}, " if flag.short else "    "
                lines.append(f"  {short}--{flag.name} {flag.type_text}".rstrip() + f"   {flag.description}")
            lines.append("")
    return "\n".join(lines)


SECRET_FLAGS = ("kubernetes-bootstrap-token", "config-patch", "config-patch-control-plane", "config-patch-worker")


def redact(command: Command, argv: list[str]) -> list[str]:
    """``argv`` for the log: a bootstrap token and inline patches (which may carry API tokens) are replaced by
    ``REDACTED``; ``@file`` patches are kept (only a path)."""
    secret_shorts = {short for short, name in command.shorts.items() if name in SECRET_FLAGS}
    result, hide_next = [], False
    for token in argv:
        if hide_next:
            result.append(token if token.startswith("@") else "REDACTED")
            hide_next = False
            continue
        name, equals, value = token[2:].partition("=") if token.startswith("--") else ("", "", "")
        if name in SECRET_FLAGS:
            if equals:
                token = f"--{name}={value if value.startswith('@') else 'REDACTED'}"
            else:
                hide_next = True
        elif token.startswith("-") and not token.startswith("--") and token[1:2] in secret_shorts:
            if len(token) > 2:
                value = token[2:].lstrip("=")
                token = token if value.startswith("@") else f"{token[:2]}REDACTED"
            else:
                hide_next = True
        result.append(token)
    return result


def _log(state: Path, record: dict[str, Any]) -> None:
    try:
        folder = state / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with (folder / f"{LOG_NAME}.jsonl").open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        pass  # a log that cannot be written must not change talosctl's answer


def _run(
    contract: Contract,
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    out: TextIO,
    err: TextIO,
    state: Path,
    record: dict[str, Any],
) -> int:
    try:
        invocation = contract.parse(argv)
    except UsageError as error:
        err.write(f"{error}\n")
        try:
            record["argv"] = redact(find_command(contract.commands, argv), argv)
        except UsageError:
            pass
        return 1
    command = invocation.command
    record["command"] = " ".join(command.path)
    record["argv"] = redact(command, argv)
    if invocation.help or not command.runnable:
        out.write(help_text(command) + "\n")
        return 0
    target = IMPLEMENTED.get(command.path)
    if target is None:
        err.write(f'"{command.name}" is not implemented by the talosforge sandbox stand-in\n')
        return 1
    module_name, function_name = target.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    runtime = Runtime(state, contract, invocation, env, cwd, out, err, argv=argv)
    try:
        code = getattr(module, function_name)(runtime)
    except TalosctlError as error:
        err.write(f"{error.message}\n")
        return error.exit_code
    except Exception:
        err.write("talosforge sandbox stand-in: internal error (a bug in the simulator, not a Talos answer)\n")
        err.write(traceback.format_exc())
        record["internal_error"] = True
        return 1
    return code or 0


def main(
    argv: list[str] | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one talosctl command line; returns the exit code (0 ok, 1 error), as the real binary exits."""
    started = time.monotonic()
    arguments = list(sys.argv[1:] if argv is None else argv)
    environment = dict(os.environ if env is None else env)
    folder = Path(cwd) if cwd is not None else Path.cwd()
    out, err = stdout or sys.stdout, stderr or sys.stderr
    state = state_dir(environment)
    talos_config.CACHE_DIR[:] = [state / "talos" / "config-check-cache"]
    record: dict[str, Any] = {
        "ts": utc_now(),
        "argv": arguments,
        "command": None,
        "cwd": str(folder),
        "pid": os.getpid(),
        "ppid": os.getppid(),
    }

    class _Tee:
        def __init__(self, stream: TextIO) -> None:
            self.stream, self.first_line = stream, ""

        def write(self, text: str) -> int:
            if not self.first_line and text.strip():
                self.first_line = text.strip().splitlines()[0]
            return self.stream.write(text)

        def flush(self) -> None:
            self.stream.flush()

    tee = _Tee(err)
    try:
        contract = load(environment.get(CLI_MD_ENV) or CLI_MD, cache_dir=state / "talos" / "cache")
        code = _run(contract, arguments, environment, folder, out, tee, state, record)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        code = 130
    record["exit_code"] = code
    record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    if code and tee.first_line:
        record["error"] = tee.first_line
    _log(state, record)
    out.flush()
    err.flush()
    return code


def read_log(state: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every logged talosctl call of a sandbox state folder, oldest first."""
    path = Path(state) / "logs" / f"{LOG_NAME}.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
