"""The unit tests' root: pytest puts this folder on sys.path, so the shared test libraries here
(loopback_testlib, powerdns_testlib) import by their plain names from every test below it.

Unit tests run talosctl (the sandbox's stand-in) on the test machine as the action plugins do: each Talosctl is
given the controller-side subprocess runner (plugin_utils/_process.run_process) explicitly; modules run through
main() use AnsibleModule.run_command instead (module_runner).
"""
