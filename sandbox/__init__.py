"""The talosforge sandbox: local simulators standing in for the services a deployment talks to.

Test tooling only; it is not part of the collection tarball. Entry points:

- ``python -m sandbox {start,status,stop,reset,logs}``: background simulators for manual runs and the site job;
- :func:`sandbox.harness.running`: one simulator in the test's own process;
- :func:`sandbox.requestlog.read`: the requests a simulator answered.

See docs/sandbox.md.
"""
