"""Unit tests run talosctl (the sandbox's stand-in) on the test machine, as the action plugins do: through the
controller-side subprocess runner. Modules use AnsibleModule.run_command instead (set up in their main())."""

from __future__ import annotations

from ansible_collections.talosforge.cluster.plugins.module_utils._talos import talosctl as _talosctl
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process

_talosctl.use_runner(run_process)
