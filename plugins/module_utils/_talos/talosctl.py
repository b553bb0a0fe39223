# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Run talosctl the way an operator would, one node or many, and keep a record of what was run.

Pure (no Ansible import): modules build a ``Talosctl`` from their parameters and call ``run`` or ``run_per_node``.
Every command line goes through ``argv`` so that the tests can check each one against the CLI reference of the
pinned Talos version.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel

DEFAULT_BINARY = "talosctl"
BINARY_ENV = "TALOSFORGE_TALOSCTL"

# How a command line is run: runner(argv, stdin, env, timeout) -> (exit code, stdout, stderr). Modules run commands
# through AnsibleModule.run_command (see module_runner); controller-side code (action plugins, tests) sets a
# subprocess-based runner. A Talosctl without its own runner uses DEFAULT_RUNNER.
Runner = Callable[[list, "str | None", Mapping, float], "tuple[int, str, str]"]
DEFAULT_RUNNER: Runner | None = None


def use_runner(runner: Runner) -> None:
    """Make ``runner`` the one every Talosctl without its own uses (a module calls this once in main())."""
    global DEFAULT_RUNNER
    DEFAULT_RUNNER = runner


def module_runner(module: Any) -> Runner:
    """A runner over ``module.run_command`` (which bounds nothing by time: talosctl's own timeouts do)."""

    def run(argv: list, stdin: str | None, env: Mapping, timeout: float) -> tuple[int, str, str]:
        return module.run_command(argv, data=stdin, environ_update=dict(env), check_rc=False)

    return run


class TalosctlError(Exception):
    """talosctl could not be run, or answered with a non-zero exit code."""

    def __init__(self, message: str, result: Result | None = None, node: str | None = None):
        self.result = result
        self.node = node
        prefix = f"node {node}: " if node else ""
        super().__init__(prefix + message)

    @property
    def stderr(self) -> str:
        return self.result.stderr if self.result else ""


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
    """How to run talosctl: which binary, which talosconfig, how long to wait.

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

    def argv(
        self,
        args: Iterable[str],
        nodes: Iterable[str] | None = None,
        endpoints: Iterable[str] | None = None,
        insecure: bool = False,
        use_talosconfig: bool = True,
    ) -> list[str]:
        """The command line: talosctl, the subcommand and its flags, then the connection flags."""
        argv = [self.executable(), *args]
        if insecure:
            argv.append("--insecure")
        elif use_talosconfig and self.talosconfig:
            argv += ["--talosconfig", self.talosconfig]
        nodes = list(nodes or [])
        if nodes:
            argv += ["--nodes", ",".join(nodes)]
        endpoints = list(endpoints or [])
        if endpoints:
            argv += ["--endpoints", ",".join(endpoints)]
        return argv

    def run(
        self,
        args: Iterable[str],
        nodes: Iterable[str] | None = None,
        endpoints: Iterable[str] | None = None,
        insecure: bool = False,
        use_talosconfig: bool = True,
        check: bool = True,
        stdin: str | None = None,
        node: str | None = None,
    ) -> Result:
        """Run one command; raise TalosctlError on a non-zero exit when ``check``."""
        argv = self.argv(args, nodes, endpoints, insecure, use_talosconfig)
        runner = self.runner or DEFAULT_RUNNER
        if runner is None:
            raise TalosctlError("no way to run talosctl was set up (module_runner or a controller-side runner)")
        try:
            rc, stdout, stderr = runner(argv, stdin, dict(self.env or {}), self.timeout)
        except TimeoutError as exc:
            raise TalosctlError(f"talosctl {_name(argv)} did not finish within {self.timeout:g} s", node=node) from exc
        except OSError as exc:
            raise TalosctlError(f"cannot run {argv[0]}: {exc}", node=node) from exc
        result = Result(argv=argv, rc=rc, stdout=stdout, stderr=stderr, node=node)
        self.history.append(result)
        if check and not result.ok:
            message = self.mask(result.stderr.strip() or result.stdout.strip() or f"exit code {result.rc}")
            raise TalosctlError(f"talosctl {_name(argv)} failed: {message}", result=result, node=node)
        return result

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
