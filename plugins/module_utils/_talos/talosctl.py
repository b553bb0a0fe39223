# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Run talosctl the way an operator would, one node or many, and keep a record of what was run.

Pure (no Ansible import): a module builds a ``Talosctl`` from its parameters and ``module_runner(module)``
(``node_module.client_from_params``) and calls ``run`` or ``run_per_node``.
Every command line goes through ``argv`` so that the tests can check each one against the CLI reference of the
pinned Talos version.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import classify_error, mask_config

DEFAULT_BINARY = "talosctl"
BINARY_ENV = "TALOSFORGE_TALOSCTL"

# How a command line is run: runner(argv, stdin, env, timeout) -> (exit code, stdout, stderr). A module passes
# module_runner(module) (AnsibleModule.run_command); controller-side code (action plugins, tests) passes a
# subprocess-based runner. Every Talosctl is given its runner: there is no default.
Runner = Callable[[list[str], "str | None", Mapping[str, str], float], "tuple[int, str, str]"]


def module_runner(module: Any) -> Runner:
    """A runner over ``module.run_command`` (which bounds nothing by time: talosctl's own timeouts do)."""

    def run(argv: list[str], stdin: str | None, env: Mapping[str, str], timeout: float) -> tuple[int, str, str]:
        return module.run_command(argv, data=stdin, environ_update=dict(env), check_rc=False)

    return run


@dataclass(frozen=True)
class Connection:
    """Which node(s) a command talks to, and how: over mTLS with the talosconfig, through the insecure maintenance
    API, or not at all (``use_talosconfig=False``: gen, validate). ``node`` names the node in errors."""

    nodes: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    insecure: bool = False
    use_talosconfig: bool = True
    node: str | None = None

    def flags(self, talosconfig: str | None) -> list[str]:
        """The connection flags that follow the subcommand and its own flags."""
        flags: list[str] = []
        if self.insecure:
            flags.append("--insecure")
        elif self.use_talosconfig and talosconfig:
            flags += ["--talosconfig", talosconfig]
        if self.nodes:
            flags += ["--nodes", ",".join(self.nodes)]
        if self.endpoints:
            flags += ["--endpoints", ",".join(self.endpoints)]
        return flags


LOCAL = Connection(use_talosconfig=False)  # commands that talk to no node: gen secrets, gen config, validate


class TalosctlError(ApiError):
    """talosctl could not be run, or answered with a non-zero exit code.

    As an ApiError (docs/failures.md): ``status`` None (talosctl is not HTTP), ``code`` the kind of failure
    (``output.classify_error`` of talosctl's error output, else of the message), ``details`` the node, talosctl's
    exit code and its error output (masked) plus what the caller adds, ``request`` the command line (the executable
    as ``talosctl``; talosctl takes secrets only in files, never on its command line).
    """

    def __init__(
        self,
        message: str,
        result: Result | None = None,
        node: str | None = None,
        argv: list[str] | None = None,
        **details: Any,
    ):
        self.result = result
        self.node = node
        stderr = result.stderr if result else ""
        command = result.argv if result else argv
        super().__init__(
            (f"node {node}: " if node else "") + message,
            code=classify_error(stderr or message),
            details={
                "node": node,
                "rc": result.rc if result else None,
                "stderr": mask_config(stderr) if result else None,
                **details,
            },
            request=command_line(command) if command else "",
        )

    @property
    def stderr(self) -> str:
        return self.result.stderr if self.result else ""


def command_line(argv: list[str]) -> str:
    """``argv`` as one shell-quoted line, the executable written ``talosctl`` (its path says nothing)."""
    return shlex.join(["talosctl", *argv[1:]])


@dataclass
class Result:
    """One finished talosctl run."""

    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    node: str | None = None

    @property
    def ok(self) -> bool:
        return self.rc == 0


@dataclass
class Talosctl:
    """How to run talosctl: which binary, which talosconfig, how long to wait, and the runner that runs it.

    ``binary`` defaults to $TALOSFORGE_TALOSCTL, then ``talosctl`` on PATH. ``talosconfig`` is passed as
    ``--talosconfig`` to commands that talk to nodes over mTLS. ``history`` collects every Result, in order.
    """

    binary: str | None = None
    talosconfig: str | None = None
    timeout: float = 300.0
    env: Mapping[str, str] | None = None
    history: list[Result] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    runner: Runner | None = None

    def executable(self) -> str:
        wanted = self.binary or os.environ.get(BINARY_ENV) or DEFAULT_BINARY
        found = shutil.which(wanted)
        if not found:
            raise TalosctlError(
                f"talosctl not found ({wanted!r}): install it with the talosforge.cluster.talosctl role, put it on "
                f"PATH, or give its path in the talosctl option or ${BINARY_ENV}"
            )
        return found

    def argv(self, args: Iterable[str], connection: Connection = LOCAL) -> list[str]:
        """The command line: talosctl, the subcommand and its flags, then the connection flags."""
        return [self.executable(), *args, *connection.flags(self.talosconfig)]

    def run(
        self,
        args: Iterable[str],
        connection: Connection | None = None,
        check: bool = True,
        stdin: str | None = None,
    ) -> Result:
        """Run one command over ``connection`` (no node: the local talosconfig); raise TalosctlError on a non-zero
        exit when ``check``."""
        connection = connection or Connection()
        node = connection.node
        argv = self.argv(args, connection)
        if self.runner is None:
            raise TalosctlError("no way to run talosctl was given (module_runner, or a controller-side runner)")
        try:
            rc, stdout, stderr = self.runner(argv, stdin, dict(self.env or {}), self.timeout)
        except TimeoutError as exc:
            message = f"talosctl {_name(argv)} did not finish within {self.timeout:g} s"
            raise TalosctlError(message, node=node, argv=argv) from exc
        except OSError as exc:
            raise TalosctlError(f"cannot run {argv[0]}: {exc}", node=node, argv=argv) from exc
        result = Result(argv=argv, rc=rc, stdout=stdout, stderr=stderr, node=node)
        self.history.append(result)
        if check and not result.ok:
            message = self.mask(result.stderr.strip() or result.stdout.strip() or f"exit code {result.rc}")
            raise TalosctlError(f"talosctl {_name(argv)} failed: {message}", result=result, node=node)
        return result

    def at_least(self, seconds: float) -> None:
        """Let one invocation run for at least ``seconds`` (a command that waits, such as health or upgrade)."""
        self.timeout = max(self.timeout, seconds)

    def run_per_node(
        self,
        nodes: list[str],
        work: Callable[[Talosctl, str], Any],
        parallel: int = 8,
    ) -> list[tuple[Any, Exception | None]]:
        """``work(self, node)`` for every node, ``parallel`` at a time: (result, None) or (None, error), in order."""
        return in_parallel(nodes, parallel, None, lambda _client, node: work(self, node), (TalosctlError,), "talos")

    def mask(self, text: str) -> str:
        """``text`` with every registered secret replaced by a placeholder."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "********")
        return text

    def commands(self) -> list[list[str]]:
        """The command lines run so far, without the binary path (for results and tests)."""
        return [result.argv[1:] for result in self.history]


def _name(argv: list[str]) -> str:
    words = [word for word in argv[1:3] if not word.startswith("-")]
    return " ".join(words) or "?"
