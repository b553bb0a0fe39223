"""Command line: ``python -m sandbox {start,status,stop,reset,logs,serve,options,talos,git}`` (from the repo root)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import control, paths, requestlog, simulators
from .git import cli as git_cli
from .harness import serve
from .simulators.talos import nodes_cli


def _option_value(text: str) -> tuple[str, Any]:
    key, separator, raw = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _parser() -> argparse.ArgumentParser:
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state-dir",
        default=argparse.SUPPRESS,
        help=f"state folder (default: ${paths.STATE_DIR_ENV}, else <repo>/.sandbox)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="The talosforge sandbox: local simulators.", parents=[state]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[state])

    start = command("start", "start the simulators in the background")
    start.add_argument("--only", nargs="+", metavar="NAME", choices=simulators.names(), help="start only these")
    start.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME.KEY=VALUE",
        help="simulator option, VALUE as JSON or text (e.g. image-factory.enterprise=true)",
    )
    command("status", "one line per simulator: name, url, up/down, logged requests")
    command("stop", "stop the background simulators")
    command("reset", "back to a fresh start: no stored data, Talos node, cluster folder or request log")
    logs = command("logs", "show a simulator's request log")
    logs.add_argument("name", choices=simulators.names())
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N requests")
    logs.add_argument("--json", action="store_true", help="print the raw JSON lines")
    command("options", "list each simulator's options")
    talos = command("talos", "the simulated Talos nodes that the talosctl stand-in talks to")
    nodes_cli.add_arguments(talos, [state])
    git = command("git", "the Git servers (SSH, HTTPS) and their repositories, deploy keys and tokens")
    git_cli.add_arguments(git, [state])
    serve = command("serve", "serve one simulator in the foreground (what start runs)")
    serve.add_argument("name", choices=simulators.names())
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--option", action="append", default=[], type=_option_value, metavar="KEY=VALUE")
    return parser


def _start_options(items: list[str]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        target, _unused, assignment = item.partition(".")
        if target not in simulators.names() or not assignment:
            raise SystemExit(
                f"--option {item!r}: write NAME.KEY=VALUE with NAME one of {', '.join(simulators.names())}"
            )
        key, value = _option_value(assignment)
        result.setdefault(target, {})[key] = value
    return result


def _print_logs(root: Any, name: str, tail: int | None, as_json: bool) -> None:
    records = requestlog.read(root, name)
    if tail is not None:
        records = records[-tail:] if tail > 0 else []
    for record in records:
        if as_json:
            print(json.dumps(record, ensure_ascii=False))
            continue
        query = "&".join(f"{key}={value}" for key, values in record.get("query", {}).items() for value in values)
        target = record["path"] + (f"?{query}" if query else "")
        status = record.get("status") if record.get("status") is not None else "dropped"
        fault = f"  [fault: {record['fault']}]" if record.get("fault") else ""
        print(f"{record['ts']}  {record['method']:<6} {target}  {status}  {record.get('duration_ms', 0):.1f} ms{fault}")


def _options_lines() -> list[str]:
    lines = []
    for name in simulators.names():
        module = simulators.load(name)
        lines.append(f"{name} (port {simulators.configured_port(name)}, env {simulators.port_env_var(name)})")
        lines += [f"  {key}: {description}" for key, description in getattr(module, "OPTIONS", {}).items()]
    return lines


def _start_lines(root: Path, arguments: argparse.Namespace) -> Iterator[str]:
    yield from control.start(root, arguments.only, _start_options(arguments.option))
    yield f"state: {root}"


# What each subcommand prints, line by line (logs and serve print as they go and return nothing).
_COMMANDS: dict[str, Callable[[Path, argparse.Namespace], Iterable[str] | None]] = {
    "start": _start_lines,
    "status": lambda root, _arguments: [line.line() for line in control.status(root)],
    "stop": lambda root, _arguments: control.stop(root),
    "reset": lambda root, _arguments: control.reset(root),
    "logs": lambda root, arguments: _print_logs(root, arguments.name, arguments.tail, arguments.json),
    "options": lambda _root, _arguments: _options_lines(),
    "talos": nodes_cli.run,
    "git": git_cli.run,
    "serve": lambda root, arguments: serve(arguments.name, root, arguments.port, dict(arguments.option)),
}


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    root = paths.state_dir(getattr(arguments, "state_dir", None))
    try:
        for line in _COMMANDS[arguments.command](root, arguments) or ():
            print(line)
    except (RuntimeError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
