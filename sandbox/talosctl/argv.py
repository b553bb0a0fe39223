"""Command-line parsing with cobra's and pflag's rules and error messages, over a reference's commands."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

from ..simulators.talos.durations import parse_duration
from .cli_model import Command, Commands, Flag

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class UsageError(ValueError):
    """A command line the real talosctl refuses before doing anything (unknown flag, bad value, ...)."""


@dataclass
class Invocation:
    """A parsed command line: the command, the flags given (typed) and the positional arguments."""

    command: Command
    values: dict[str, Any] = field(default_factory=dict)
    given: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    help: bool = False

    def has(self, name: str) -> bool:
        return name in self.values

    def value(self, name: str) -> Any:
        """The flag's value: as given, else its documented default (typed), else an empty value."""
        if name in self.values:
            return self.values[name]
        flag = self.command.flags.get(name)
        if flag is None:
            raise KeyError(f"{self.command.name} has no flag --{name}")
        return default_value(flag)


def _convert(flag: Flag, raw: str) -> Any:
    kind = flag.kind
    if kind == "bool":
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ValueError(f'strconv.ParseBool: parsing "{raw}": invalid syntax')
    if kind == "duration":
        return parse_duration(raw)
    if kind in ("int", "uint"):
        try:
            number = int(raw.replace("_", ""), 0)
        except ValueError:
            name = "ParseInt" if kind == "int" else "ParseUint"
            raise ValueError(f'strconv.{name}: parsing "{raw}": invalid syntax') from None
        if kind == "uint" and number < 0:
            raise ValueError(f'strconv.ParseUint: parsing "{raw}": invalid syntax')
        return number
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f'strconv.ParseFloat: parsing "{raw}": invalid syntax') from None
    if kind == "enum":
        if raw not in flag.choices:
            raise ValueError(f"possible options are: {flag.type_text}")
        return raw
    if kind == "strings":
        if raw == "":
            return []
        try:
            return next(csv.reader([raw]))
        except csv.Error as error:
            raise ValueError(str(error)) from None
    return raw


def default_value(flag: Flag) -> Any:
    """The documented default of a flag, typed (False / [] / "" / 0 when none is documented)."""
    text = flag.default
    if flag.kind == "bool":
        return text == "true"
    if flag.kind in ("strings", "stringArray"):
        if not text or text == "[]":
            return []
        return [part for part in text.strip("[]").split(",") if part]
    if text is None:
        return 0.0 if flag.kind in ("duration", "float") else (0 if flag.kind in ("int", "uint") else "")
    if flag.kind == "duration":
        return parse_duration(text)
    if flag.kind in ("int", "uint", "float"):
        try:
            return _convert(flag, text)
        except ValueError:
            return 0
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _set(invocation: Invocation, flag: Flag, raw: str) -> None:
    try:
        value = _convert(flag, raw)
    except ValueError as error:
        raise UsageError(f'invalid argument "{raw}" for "{flag.label()}" flag: {error}') from None
    if flag.repeatable:
        previous = invocation.values.get(flag.name, [])
        value = [*previous, *(value if isinstance(value, list) else [value])]
    invocation.values[flag.name] = value
    invocation.given.append(flag.name)


def _takes_value(command: Command, token: str) -> bool:
    """Whether a flag token swallows the next word, as cobra's stripFlags guesses it."""
    if "=" in token:
        return False
    if token.startswith("--"):
        flag = command.flags.get(token[2:])
    else:
        name = command.shorts.get(token[1:2])
        flag = command.flags.get(name) if name else None
        if flag is not None and len(token) > 2:
            return False
    return flag is None or flag.kind != "bool"


def _words(command: Command, args: list[str]) -> list[tuple[int, str]]:
    """The non-flag words of ``args`` with their positions (cobra's stripFlags)."""
    words, index = [], 0
    while index < len(args):
        token = args[index]
        if token == "--":
            break
        if token.startswith("-") and token != "-":
            index += 2 if _takes_value(command, token) else 1
            continue
        words.append((index, token))
        index += 1
    return words


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _unknown_command(command: Command, word: str) -> UsageError:
    suggestions = [
        child
        for child in sorted(command.children)
        if _distance(word.lower(), child.lower()) <= 2 or child.lower().startswith(word.lower())
    ]
    hint = "\n\nDid you mean this?\n" + "".join(f"\t{name}\n" for name in suggestions) if suggestions else ""
    return UsageError(f'unknown command "{word}" for "{command.name}"{hint}')


def _find(commands: Commands, args: list[str]) -> tuple[Command, list[str]]:
    command, remaining = commands[()], list(args)
    while True:
        words = _words(command, remaining)
        if not words:
            return command, remaining
        index, word = words[0]
        if word not in command.children:
            if command.children:
                raise _unknown_command(command, word)
            return command, remaining
        command = commands[(*command.path, word)]
        remaining = remaining[:index] + remaining[index + 1 :]


def find_command(commands: Commands, args: list[str]) -> Command:
    """The command a command line names (UsageError for an unknown one), its flags not checked."""
    return _find(commands, args)[0]


def _check_args(command: Command, args: list[str]) -> None:
    low, high, count = command.min_args, command.max_args, len(args)
    if high is not None and high == 0 and count:
        raise UsageError(f'unknown command "{args[0]}" for "{command.name}"')
    if high is not None and low == high and count != low:
        raise UsageError(f"accepts {low} arg(s), received {count}")
    if high is not None and low == 0 and count > high:
        raise UsageError(f"accepts at most {high} arg(s), received {count}")
    if high is None and count < low:
        raise UsageError(f"requires at least {low} arg(s), only received {count}")
    if high is not None and not low <= count <= high:
        raise UsageError(f"accepts between {low} and {high} arg(s), received {count}")


def _parse_short(invocation: Invocation, command: Command, token: str, args: list[str], index: int) -> int:
    shorthands = token[1:]
    while shorthands:
        char = shorthands[0]
        name = command.shorts.get(char)
        if name is None:
            if char == "h":
                invocation.help = True
                shorthands = shorthands[1:]
                continue
            raise UsageError(f"unknown shorthand flag: '{char}' in {token}")
        flag = command.flags[name]
        if len(shorthands) > 2 and shorthands[1] == "=":
            value, shorthands = shorthands[2:], ""
        elif flag.kind == "bool":
            value, shorthands = "true", shorthands[1:]
        elif len(shorthands) > 1:
            value, shorthands = shorthands[1:], ""
        elif index < len(args):
            value, shorthands, index = args[index], "", index + 1
        else:
            raise UsageError(f"flag needs an argument: '{char}' in -{char}")
        if name == "help":
            invocation.help = True
            continue
        _set(invocation, flag, value)
    return index


def parse_command_line(commands: Commands, args: list[str]) -> Invocation:
    """Find the command like cobra, parse its flags like pflag, check the positional arguments."""
    command, remaining = _find(commands, args)
    invocation = Invocation(command)
    index = 0
    while index < len(remaining):
        token = remaining[index]
        index += 1
        if token == "--":
            invocation.args.extend(remaining[index:])
            break
        if not token.startswith("-") or token == "-":
            invocation.args.append(token)
            continue
        if not token.startswith("--"):
            index = _parse_short(invocation, command, token, remaining, index)
            continue
        name, equals, raw = token[2:].partition("=")
        if not name or name.startswith("-") or (equals and name == ""):
            raise UsageError(f"bad flag syntax: {token}")
        flag = command.flags.get(name)
        if flag is None:
            if name == "help":
                invocation.help = True
                continue
            raise UsageError(f"unknown flag: --{name}")
        if name == "help" and not equals:
            invocation.help = True
            continue
        if equals:
            _set(invocation, flag, raw)
        elif flag.kind == "bool":
            _set(invocation, flag, "true")
        elif index < len(remaining):
            _set(invocation, flag, remaining[index])
            index += 1
        else:
            raise UsageError(f"flag needs an argument: --{name}")
    if not invocation.help and command.runnable:
        _check_args(command, invocation.args)
    if not command.runnable and invocation.args and not invocation.help:
        raise _unknown_command(command, invocation.args[0])
    return invocation
