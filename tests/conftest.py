"""Fixtures for every test suite: the Go programs the sandbox's stand-ins run."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def talos_config_program() -> Path:
    """``talos-config`` (Talos's own config code, sandbox/gotools/talos): the talosctl stand-in runs it for ``gen``,
    ``validate`` and the nodes' ``apply-config`` checks, here and in the unit tests that use the stand-in. Built
    when missing or stale (nothing to do when up to date, seconds with a warm Go cache, about two minutes cold);
    a build that fails fails the tests, with Go's message."""
    from sandbox.gotools.build import BuildError, build_all
    from sandbox.gotools.programs import binary

    try:
        build_all(["talos-config"])
    except BuildError as error:
        pytest.fail(f"talos-config could not be built: {error}", pytrace=False)
    return binary("talos-config")
