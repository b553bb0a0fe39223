"""The talosctl command-line contract, read from the CLI reference (``cli.md``) of one Talos version.

``load(path)`` parses the reference once per file content (kept in memory, and on disk when a cache folder is
given): every ``## talosctl <words>`` section is a command; its flags are the lines of the fenced blocks under
``### Options`` and ``### Options inherited from parent commands``; its positional arguments come from the usage
line (``talosctl gen config <cluster name> <cluster endpoint> [flags]``). ``Contract.check(argv)`` returns the
problems the real talosctl (cobra + pflag) would report for a command line, in its words; ``Contract.parse(argv)``
returns the parsed invocation or raises :class:`UsageError`.

Differences from cobra on purpose: an unknown word after a command group (``talosctl etcd frobnicate``) is an
error here (cobra prints the group's help and exits 0), and command aliases (``apply`` for ``apply-config``) are
not accepted because the reference does not list them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .argv import Invocation, UsageError, parse_command_line
from .cli_model import Command, Flag

__all__ = ["Command", "Contract", "Flag", "Invocation", "UsageError", "load"]

_HEADING = re.compile(r"^## talosctl(?P<words>(?: [\w.-]+)*)\s*$")
_FLAG_LINE = re.compile(r"^\s*(?:-(?P<short>\w), )?--(?P<name>[\w.-]+)(?: (?P<type>\S.*?))?\s{2,}(?P<description>.*)$")
_DEFAULT = re.compile(r"\(default (?P<value>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*$")
_ARG_TOKEN = re.compile(r"<[^>]*>(?:\.\.\.)?|\[[^\]]*\](?:\.\.\.)?|\.\.\.")
_SCALAR_KINDS = {
    "strings": "strings",
    "stringArray": "stringArray",
    "duration": "duration",
    "int": "int",
    "int32": "int",
    "int64": "int",
    "uint": "uint",
    "uint16": "uint",
    "uint32": "uint",
    "float": "float",
    "float32": "float",
    "float64": "float",
}
CACHE_FORMAT = 1


class Contract:
    """All commands of one talosctl reference."""

    def __init__(self, commands: dict[tuple[str, ...], Command], source: str = "") -> None:
        self.commands = commands
        self.source = source
        for path in list(commands):
            for depth in range(len(path)):
                parent = commands.setdefault(path[:depth], Command(path[:depth]))
                if path[depth] not in parent.children:
                    parent.children.append(path[depth])

    @property
    def root(self) -> Command:
        return self.commands[()]

    def command(self, *words: str) -> Command:
        """The command ``talosctl <words>``; KeyError when the reference has no such command."""
        return self.commands[tuple(words)]

    def talos_version(self) -> str | None:
        """The Talos version the reference belongs to (from the default installer image of ``upgrade``)."""
        upgrade = self.commands.get(("upgrade",))
        image = upgrade.flags.get("image") if upgrade else None
        match = re.search(r":(v\d+\.\d+\.\d+\S*)$", (image.default or "").strip('"')) if image else None
        return match.group(1) if match else None

    def parse(self, argv: list[str]) -> Invocation:
        """The invocation ``argv`` stands for (with or without the binary first); raises UsageError."""
        return parse_command_line(self.commands, _without_binary(argv))

    def check(self, argv: list[str]) -> list[str]:
        """What the real talosctl would refuse in ``argv`` (empty: the command line is valid)."""
        try:
            invocation = self.parse(argv)
        except UsageError as error:
            return [str(error)]
        if not invocation.command.runnable and not invocation.help:
            return [
                f"{invocation.command.name} is a command group, not a command: add one of "
                f"{', '.join(sorted(invocation.command.children))}"
            ]
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CACHE_FORMAT,
            "source": self.source,
            "commands": [_command_json(command) for command in self.commands.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contract:
        commands: dict[tuple[str, ...], Command] = {}
        for item in data["commands"]:
            flags = {
                name: Flag(**{**value, "choices": tuple(value["choices"])}) for name, value in item["flags"].items()
            }
            command = Command(
                tuple(item["path"]),
                item["summary"],
                item["usage"],
                flags,
                item["min_args"],
                item["max_args"],
                list(item["children"]),
                item["text"],
            )
            commands[command.path] = command
        return cls(commands, data.get("source", ""))


def _command_json(command: Command) -> dict[str, Any]:
    return {
        "path": list(command.path),
        "summary": command.summary,
        "usage": command.usage,
        "flags": {name: asdict(flag) for name, flag in command.flags.items()},
        "min_args": command.min_args,
        "max_args": command.max_args,
        "children": command.children,
        "text": command.text,
    }


def _without_binary(argv: list[str]) -> list[str]:
    if argv and os.path.basename(argv[0]) in ("talosctl", "talosctl.exe"):
        return list(argv[1:])
    return list(argv)


def parse_flag_line(line: str, inherited: bool) -> Flag | None:
    """A flag from one line of an options block, or None for a line that is not a flag."""
    match = _FLAG_LINE.match(line)
    if not match:
        return None
    type_text = (match.group("type") or "").strip()
    description = match.group("description").strip()
    default_match = _DEFAULT.search(description)
    default = default_match.group("value") if default_match else None
    if (
        default is not None
        and _SCALAR_KINDS.get(type_text, "string") == "string"
        and type_text
        and ", " not in type_text
        and not (default.startswith('"') and default.endswith('"'))
    ):
        default = None  # cobra quotes string defaults; "(default is to use ...)" is prose, not a default
    choices: tuple[str, ...] = ()
    if not type_text:
        kind = "bool"
    elif ", " in type_text:
        kind, choices = "enum", tuple(part.strip() for part in type_text.split(","))
    else:
        kind = _SCALAR_KINDS.get(type_text, "string")
    return Flag(match.group("name"), match.group("short"), kind, type_text, choices, default, description, inherited)


def _arg_bounds(usage: str, path: tuple[str, ...]) -> tuple[int, int | None]:
    rest = usage[len(" ".join(("talosctl", *path))) :]
    rest = rest.replace("[flags]", "")
    minimum = 0
    maximum: int | None = 0
    for token in _ARG_TOKEN.findall(rest):
        if token == "..." or token.endswith("..."):
            maximum = None
            if token.startswith("<"):
                minimum += 1
            continue
        if token.startswith("<"):
            minimum += 1
        if maximum is not None:
            maximum += 1
    return minimum, maximum


class _MarkdownReader:
    """Reads cli.md line by line: a ``## talosctl ...`` heading starts a command; fenced blocks under it hold its
    usage line or, under an "Options" subsection, its flags."""

    def __init__(self) -> None:
        self.commands: dict[tuple[str, ...], Command] = {}
        self.current: Command | None = None
        self.subsection = ""
        self.in_block = False
        self.block_lines: list[str] = []
        self.body: list[str] = []

    def read(self, line: str) -> None:
        if self.in_block:
            self._read_block(line)
            return
        heading = _HEADING.match(line)
        if heading:
            self._close_command()
            path = tuple(heading.group("words").split())
            self.current = self.commands.setdefault(path, Command(path))
            self.subsection, self.body = "", []
        elif self.current is not None:
            self._read_text(self.current, line)

    def _read_block(self, line: str) -> None:
        if line.startswith("```"):
            self._finish_block()
            self.in_block, self.block_lines = False, []
        else:
            self.block_lines.append(line)
        if self.current is not None:
            self.body.append(line)

    def _read_text(self, current: Command, line: str) -> None:
        self.body.append(line)
        if line.startswith("```"):
            self.in_block, self.block_lines = True, []
        elif line.startswith("### "):
            self.subsection = line[4:].strip().lower()
        elif line.strip() and not current.summary and not self.subsection and not line.startswith("#"):
            current.summary = line.strip()

    def _finish_block(self) -> None:
        current = self.current
        if current is None:
            return
        if self.subsection.startswith("options"):
            inherited = "inherited" in self.subsection
            for line in self.block_lines:
                flag = parse_flag_line(line, inherited)
                if flag and flag.name not in current.flags:
                    current.flags[flag.name] = flag
        elif not current.usage and self.block_lines and self.block_lines[0].startswith(current.name):
            current.usage = self.block_lines[0].strip()

    def _close_command(self) -> None:
        if self.current is not None:
            self.current.text = "\n".join(self.body).strip()

    def finish(self) -> dict[tuple[str, ...], Command]:
        self._close_command()
        for command in self.commands.values():
            if command.usage:
                command.min_args, command.max_args = _arg_bounds(command.usage, command.path)
        return self.commands


def parse_markdown(text: str, source: str = "") -> Contract:
    """Every command of a cli.md reference."""
    reader = _MarkdownReader()
    for line in text.splitlines():
        reader.read(line)
    return Contract(reader.finish(), source)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, size: int, mtime_ns: int, cache_dir: str | None) -> Contract:
    data = Path(path).read_bytes()
    # the parser's own source is part of the key, so that a changed parser never reads an old cache
    digest = hashlib.sha256(data + Path(__file__).read_bytes()).hexdigest()[:20]
    cache_file = Path(cache_dir) / f"cli-contract-{digest}.json" if cache_dir else None
    if cache_file is not None:
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
            if cached.get("format") == CACHE_FORMAT:
                return Contract.from_json(cached)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    contract = parse_markdown(data.decode("utf-8"), source=path)
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            partial = cache_file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(contract.to_json()), encoding="utf-8")
            os.replace(partial, cache_file)
        except OSError:
            pass
    return contract


def load(cli_md_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> Contract:
    """The contract of a cli.md reference; parsed once per file content (and kept in ``cache_dir`` if given)."""
    path = Path(cli_md_path).resolve()
    stat = path.stat()
    return _load_cached(str(path), stat.st_size, stat.st_mtime_ns, str(cache_dir) if cache_dir else None)
