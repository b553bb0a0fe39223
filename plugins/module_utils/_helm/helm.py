# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Run the helm CLI: the four commands the module needs (list, get values, template, upgrade --install).

Pure (no Ansible import): a module hands in ``module_runner(module)``; tests hand in a subprocess runner. Values
always go to helm on stdin (``-f -``), never on the command line, so a command line holds no secret. Helm's own
folders (``HELM_CACHE_HOME``, ``HELM_CONFIG_HOME``, ``HELM_DATA_HOME``) are the folder given in ``home``: charts are
fetched with ``--repo`` (no ``helm repo add``), so nothing is read from or left in the user's helm setup.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_plan import Chart

# runner(argv, stdin, env) -> (exit code, stdout, stderr)
Runner = Callable[[list[str], "str | None", Mapping[str, str]], "tuple[int, str, str]"]
READ_COMMANDS = frozenset({"list", "get", "template", "version"})


def module_runner(module: Any) -> Runner:
    """A runner over ``module.run_command`` (helm bounds its own waits with ``--timeout``)."""

    def run(argv: list[str], stdin: str | None, env: Mapping[str, str]) -> tuple[int, str, str]:
        return module.run_command(argv, data=stdin, binary_data=True, environ_update=dict(env), check_rc=False)

    return run


class HelmError(ApiError):
    """helm could not be run or ended with an error. ``code``: ``helm``, ``values_refused`` (a chart refused the
    values) or ``in_progress`` (another helm run holds a release); ``details``: the release, helm's exit code and
    its stderr."""

    def __init__(self, message: str, argv: list[str] | None = None, rc: int | None = None, stderr: str = "",
                 release: str | None = None, code: str = "helm"):  # fmt: skip
        self.stderr = stderr
        self.release = release
        super().__init__(
            message,
            code=code,
            details={"release": release, "rc": rc, "stderr": stderr or None},
            request=command_line(argv) if argv else "",
        )


def command_line(argv: list[str]) -> str:
    """``argv`` as one shell-quoted line, the executable written ``helm``."""
    return shlex.join(["helm", *argv[1:]])


def helm_words(stderr: str) -> str:
    """What helm said, on one line, without its ``Error:`` prefix."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    text = " ".join(lines)
    return text[len("Error: ") :] if text.startswith("Error: ") else text


@dataclass
class Helm:
    """One helm binary, one kubeconfig, one private helm home; ``calls`` records every command line run."""

    binary: str
    kubeconfig: str
    home: str
    runner: Runner
    mask: Callable[[str], str] = str
    calls: list[list[str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def executable(self) -> str:
        found = shutil.which(os.path.expanduser(self.binary))
        if not found:
            raise HelmError(
                f"helm not found ({self.binary!r}): install it with the talosforge.cluster.helm role (it sets "
                "talosforge_helm_binary), put it on PATH, or give its path in helm_binary"
            )
        return found

    def env(self) -> dict[str, str]:
        return {
            "HELM_CACHE_HOME": os.path.join(self.home, "cache"),
            "HELM_CONFIG_HOME": os.path.join(self.home, "config"),
            "HELM_DATA_HOME": os.path.join(self.home, "data"),
        }

    def run(self, args: list[str], stdin: str | None = None, release: str | None = None, what: str = "") -> str:
        """helm ``args`` (the kubeconfig added); stdout, or HelmError quoting helm's stderr (masked)."""
        argv = [self.executable(), *args, "--kubeconfig", self.kubeconfig]
        with self._lock:
            self.calls.append(argv[1:])
        try:
            rc, stdout, stderr = self.runner(argv, stdin, self.env())
        except OSError as exc:
            raise HelmError(f"cannot run {argv[0]}: {exc}", argv=argv, release=release) from exc
        if rc != 0:
            words = self.mask(helm_words(stderr) or stdout.strip() or f"exit code {rc}")
            subject = f"{release}: " if release else ""
            raise HelmError(f"{subject}{what or 'helm ' + args[0]} failed: {words}", argv=argv, rc=rc,
                            stderr=self.mask(stderr.strip()), release=release)  # fmt: skip
        return stdout

    def list_releases(self, names: list[str]) -> list[dict[str, Any]]:
        """The latest revision of every release named in ``names``, in all namespaces, whatever its status."""
        pattern = "^(" + "|".join(sorted({_regex_quote(name) for name in names})) + ")$"
        text = self.run(["list", "--all-namespaces", "--filter", pattern, "--output", "json"],
                        what="listing the releases (helm list)")  # fmt: skip
        return parse_list(text)

    def get_values(self, name: str, namespace: str) -> Any:
        """The values the release was installed or upgraded with (user-supplied values only)."""
        text = self.run(["get", "values", name, "--namespace", namespace, "--output", "json"],
                        release=f"{namespace}/{name}", what="reading the values (helm get values)")  # fmt: skip
        return parse_values(text, f"{namespace}/{name}")

    def template(self, name: str, namespace: str, chart: Chart, values_yaml: str) -> None:
        """Render the chart with the values (helm checks them against the chart's values.schema.json)."""
        self.run(["template", name, *chart.args(), "--namespace", namespace, "--values", "-"], stdin=values_yaml,
                 release=f"{namespace}/{name}", what="helm template")  # fmt: skip

    def upgrade(self, name: str, namespace: str, chart: Chart, values_yaml: str, create_namespace: bool,
                wait: bool, timeout: int) -> dict[str, Any]:  # fmt: skip
        """``helm upgrade --install``; the release helm reports (its ``version`` is the revision)."""
        args = ["upgrade", "--install", name, *chart.args(), "--namespace", namespace, "--values", "-",
                "--timeout", f"{timeout}s", "--output", "json"]  # fmt: skip
        if create_namespace:
            args.append("--create-namespace")
        if wait:
            args.append("--wait=watcher")
        text = self.run(args, stdin=values_yaml, release=f"{namespace}/{name}", what="helm upgrade --install")
        try:
            answer = json.loads(text) if text.strip() else {}
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    def rollback(self, name: str, namespace: str, timeout: int) -> None:
        """Roll the release back to its previous revision (what clears an interrupted upgrade's lock)."""
        self.run(["rollback", name, "--namespace", namespace, "--timeout", f"{timeout}s"],
                 release=f"{namespace}/{name}", what="helm rollback (of an interrupted upgrade)")  # fmt: skip

    def uninstall(self, name: str, namespace: str, timeout: int) -> None:
        """Remove the release (what clears an install that never finished)."""
        self.run(["uninstall", name, "--namespace", namespace, "--timeout", f"{timeout}s"],
                 release=f"{namespace}/{name}", what="helm uninstall (of an interrupted install)")  # fmt: skip

    def writes(self) -> list[list[str]]:
        """The command lines run so far that change the cluster."""
        return [call for call in self.calls if call and call[0] not in READ_COMMANDS]


def _regex_quote(name: str) -> str:
    # Release names are DNS labels ([a-z0-9-]); anything else is escaped for Go's regexp as for Python's.
    return "".join(char if char.isalnum() or char == "-" else "\\" + char for char in name)


def parse_list(text: str) -> list[dict[str, Any]]:
    """``helm list -o json``: a list of {name, namespace, revision, status, chart, app_version, ...}."""
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError as exc:
        raise HelmError(f"helm list answered with something that is not JSON: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(item, dict) and "name" in item for item in data):
        raise HelmError("helm list answered with JSON that is not a list of releases")
    return data


def parse_values(text: str, release: str) -> Any:
    """``helm get values -o json``: the values as JSON (``null`` when the release has none)."""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise HelmError(f"{release}: helm get values answered with something that is not JSON: {exc}",
                        release=release) from exc  # fmt: skip
    if data is not None and not isinstance(data, dict):
        raise HelmError(f"{release}: helm get values answered with JSON that is not a mapping", release=release)
    return data or {}
