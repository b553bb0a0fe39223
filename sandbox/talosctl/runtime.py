"""What a command implementation gets: the parsed invocation, where state lives, and where to print."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..simulators.talos.state import Store
from .argv import Invocation
from .contract import Contract
from .transport import Session


@dataclass
class Runtime:
    state_dir: Path
    contract: Contract
    invocation: Invocation
    env: dict[str, str]
    cwd: Path
    out: TextIO
    err: TextIO
    notes: dict[str, Any] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)  # the command line as given (without the binary)

    @property
    def store(self) -> Store:
        return Store(self.state_dir)

    @property
    def args(self) -> list[str]:
        return self.invocation.args

    def flag(self, name: str) -> Any:
        """A flag's value as given, else its documented default (None for a flag this command does not have)."""
        if name not in self.invocation.command.flags:
            return None
        return self.invocation.value(name)

    def given(self, name: str) -> bool:
        return self.invocation.has(name)

    def path(self, text: str) -> Path:
        expanded = os.path.expanduser(text)
        return Path(expanded) if os.path.isabs(expanded) else self.cwd / expanded

    def session(self) -> Session:
        return Session(self.store, self.flag, self.env, self.cwd)

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def info(self, text: str) -> None:
        """A progress line: talosctl writes those to stderr."""
        self.err.write(text + "\n")
