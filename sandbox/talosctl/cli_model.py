"""What a talosctl command line is made of, as the CLI reference describes it: commands and their flags.

The parser (:mod:`.argv`) and the reference reader (:mod:`.contract`) both build on these; neither imports the other
for them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Flag:
    """One flag as the reference lists it."""

    name: str
    short: str | None
    kind: str  # bool, string, strings, stringArray, duration, int, uint, float, enum
    type_text: str
    choices: tuple[str, ...]
    default: str | None
    description: str
    inherited: bool

    @property
    def repeatable(self) -> bool:
        return self.kind in ("strings", "stringArray")

    def label(self) -> str:
        """How pflag names the flag in an error: ``-f, --file`` or ``--dry-run``."""
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


@dataclass
class Command:
    """One ``## talosctl ...`` section (or a group implied by deeper sections)."""

    path: tuple[str, ...]
    summary: str = ""
    usage: str = ""
    flags: dict[str, Flag] = field(default_factory=dict)
    min_args: int = 0
    max_args: int | None = 0
    children: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def name(self) -> str:
        return " ".join(("talosctl", *self.path))

    @property
    def runnable(self) -> bool:
        return bool(self.usage)

    @functools.cached_property
    def shorts(self) -> dict[str, str]:
        return {flag.short: flag.name for flag in self.flags.values() if flag.short}


Commands = dict[tuple[str, ...], Command]  # every command of a reference by its words (the root is ``()``)
