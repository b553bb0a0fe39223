"""Unit tests run talosctl (the sandbox's stand-in) on the test machine as the action plugins do: through the
controller-side subprocess runner, which each test passes to its Talosctl (modules run through main() use
AnsibleModule.run_command instead, with module_runner).

The one shared piece: a Talosctl that a test helper builds without a runner (tests/unit/plugins/modules/talos_lab.py
does) is given the subprocess runner, for the test session only; product code always passes its runner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import Talosctl
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process


@pytest.fixture(scope="session", autouse=True)
def talosctl_runs_as_a_subprocess() -> Iterator[None]:
    """Session-wide, so that module-scoped fixtures (the sandbox labs) have it too."""
    build = Talosctl.__init__

    def init(self: Talosctl, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        self.runner = self.runner or run_process

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Talosctl, "__init__", init)
        yield
