"""Running simulators: in this process for tests (:func:`running`), or in the foreground for ``serve``.

Typical use in a test::

    from sandbox.harness import running

    def test_download(tmp_path):
        with running("image-factory", tmp_path, raw_image_size=1 << 20) as factory:
            factory.set_fault(503, count=1, path="^/image/")
            ...  # point the code under test at factory.url
            assert [r["status"] for r in factory.requests()] == [503, 200]
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import simulators
from .faults import Fault, Latency
from .httpbase import SimulatorApp
from .server import SimulatorServer, make_server, serve_in_thread


class RunningSimulator:
    """A simulator serving on 127.0.0.1 from a thread of this process."""

    def __init__(self, app: SimulatorApp, server: SimulatorServer, thread: threading.Thread) -> None:
        self.app = app
        self.name = app.name
        self.state_dir = app.state_dir
        self.port: int = server.server_address[1]
        self.url: str = app.url
        self._server = server
        self._thread = thread
        self._stopped = False

    def requests(self) -> list[dict[str, Any]]:
        """The API requests logged so far (see sandbox.requestlog for the record fields)."""
        return self.app.log.read()

    def set_fault(
        self,
        status: int | None = None,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        drop_connection: bool = False,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        truncate_after: int | None = None,
        cut_after_acting: bool = False,
    ) -> None:
        """Spoil the next ``count`` API requests whose path matches ``path`` (a regex) and ``method``.

        Give one effect: ``status`` (answer with it; ``headers`` and ``body`` shape the answer), ``drop_connection``
        (close without answering, before acting), ``truncate_after`` (the real answer, cut after that many body
        bytes) or ``cut_after_acting`` (carry the request out, then close before the answer's body).
        Faults queue up: the first matching one is used and disappears when its count is spent.
        """
        fault = Fault(
            status, count, path, method, drop_connection, dict(headers or {}), body, truncate_after, cut_after_acting
        )
        self.app.controls.add_fault(fault)

    def clear_faults(self) -> None:
        self.app.controls.clear_faults()

    def set_latency(self, ms: float, *, path: str | None = None) -> None:
        """Delay every API request (or those whose path matches ``path``) by ``ms`` milliseconds; 0 turns it off."""
        self.app.controls.set_latency(Latency.from_json({"ms": ms, "path": path}))

    def reset(self) -> None:
        """Forget stored data, the request log, faults and latency."""
        self.app.reset()

    def stop(self) -> None:
        """Stop serving (idempotent). The state folder is left as it is."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start(name: str, state_dir: str | os.PathLike[str], port: int = 0, **options: Any) -> RunningSimulator:
    """Start simulator ``name`` on a thread, on 127.0.0.1:``port`` (0 = a free port). Call ``stop()`` when done."""
    app = simulators.create_app(name, Path(state_dir), options)
    server = make_server(app, port)
    return RunningSimulator(app, server, serve_in_thread(server))


@contextmanager
def running(name: str, state_dir: str | os.PathLike[str], port: int = 0, **options: Any) -> Iterator[RunningSimulator]:
    """Context manager around :func:`start`; the simulator is stopped on exit, even on error."""
    simulator = start(name, state_dir, port, **options)
    try:
        yield simulator
    finally:
        simulator.stop()


def serve(name: str, state_dir: str | os.PathLike[str], port: int, options: dict[str, Any] | None = None) -> None:
    """Serve in the foreground until SIGTERM or SIGINT (what ``python -m sandbox serve`` runs)."""
    app = simulators.create_app(name, Path(state_dir), options)
    server = make_server(app, port)
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    thread = serve_in_thread(server)
    print(f"{name} simulator serving on {app.url} (state {app.state_dir})", flush=True)
    try:
        while not stop_requested.wait(0.5):
            if not thread.is_alive():
                break
    finally:
        server.shutdown()
        server.server_close()
        print(f"{name} simulator stopped", flush=True)
