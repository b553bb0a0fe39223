"""The Hetzner Cloud simulator's request pipeline: rate limit, token, contract checks, handler, answer.

Handlers are found by the spec's operation (method and path template without ``/v1``, e.g. ``GET /servers/{id}``),
marked with :func:`sandbox.httpbase.operation`, and live in the resource mixins (servers.py, networking.py, ...).
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from ...faults import Fault
from ...httpbase import Request, Response, SimulatorApp
from .actions import Actions
from .contract import Contract, Operation, shared_contract, without_nulls
from .errors import CODE_FOR_STATUS, CODES, DEFAULT_DETAILS, APIError, status_of
from .machine import Machines
from .ratelimit import RateLimit
from .state import Store, check_labels, now, paginate, parse_selector, public, selector_matches

PREFIX = "/v1"
_HOSTNAME = re.compile(r"(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
# POST /volumes: letters, digits, dashes, underscores and dots, starting and ending alphanumeric, 64 at most
_VOLUME_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")


@dataclass
class Call:
    """One API request as a handler sees it: typed path/query values and the parsed JSON body."""

    request: Request
    values: dict[str, Any]
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def id(self, name: str = "id") -> int:
        return int(self.values[name])

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


class HcloudCore(SimulatorApp):
    name = "hcloud"
    server_header = "Hetzner Cloud simulator (talosforge sandbox)"

    def __init__(self, state_dir: Any, options: dict[str, Any] | None = None) -> None:
        super().__init__(state_dir, options)
        self.validate = bool(self.options.get("validate", True))  # every run checks its answers, not only the tests
        self.token = self.options.get("token")
        self.contract: Contract = shared_contract()
        self.store = Store(self.data_dir)
        self.actions = Actions(self.store, _latency_option(self.options.get("action_latency_ms", 0)))
        self.rate_limit = RateLimit(int(self.options.get("rate_limit", 3600)))
        self.drift: list[dict[str, Any]] = []  # responses that failed validation (a simulator bug), for the tests
        self.epoch = now()
        self.ipv4_pool = str(self.options.get("public_ipv4_range", "127.88.0.0/16"))
        self.ipv6_pool = str(self.options.get("public_ipv6_range", "2001:db8::/32"))
        self.machines = Machines(self.data_dir, self.state_dir, int(self.options.get("rescue_ssh_port", 22)))

    # --- pipeline ---------------------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        allowed, limit_headers = self.rate_limit.take()
        operation_found: Operation | None = None
        try:
            if not allowed:
                raise APIError.of("rate_limit_exceeded", f"limit of {self.rate_limit.limit} requests per hour reached")
            self._authenticate(request)
            if not request.path.startswith(PREFIX + "/"):
                raise APIError.of("not_found", f"no API at {request.path}: the API lives under {PREFIX}")
            path = request.path[len(PREFIX) :]
            operation_found, path_params, other = self.contract.match(request.method, path)
            if operation_found is None:
                if other:
                    raise APIError.of("method_not_allowed", f"{request.method} is not allowed on {path}")
                raise APIError.of("not_found", f"no such endpoint: {request.method} {path}")
            handler = self.handler_for(request.method, operation_found.template)
            if handler is None:
                served = f"{request.method} {operation_found.template}"
                message = f"{served} is an operation of the API that the sandbox does not simulate"
                raise APIError.of("not_simulated", message, {"operation": served})
            call = self._parse(request, operation_found, path_params)
            self.actions.tick()
            status, data = handler(call)
            response = self._answer(operation_found, status, data, {**limit_headers, **call.headers})
        except APIError as error:
            response = self._answer(operation_found, *self._error_answer(operation_found, error), limit_headers)
        except Exception:  # a simulator bug: answer like the API would, keep the trace for the developer
            traceback.print_exc(file=sys.stderr)
            response = self._answer(None, 500, APIError.of("server_error").envelope(), limit_headers)
        self.actions.tick()
        return response

    def _error_answer(self, operation: Operation | None, error: APIError) -> tuple[int, dict[str, Any]]:
        """(status, envelope): the status of the operation's own code from its table; a code that neither the
        operation nor api-overview.md documents is a simulator bug, recorded as drift and answered server_error."""
        status = status_of(error.code, operation.errors if operation is not None else {})
        if status is None:
            where = f"{operation.method} {operation.template}" if operation is not None else "(no operation)"
            problem = f"error code {error.code!r} is documented neither for {where} nor in api-overview.md"
            self.drift.append({"operation": where, "problems": [problem]})
            print(f"hcloud simulator: {problem}", file=sys.stderr)
            return 500, APIError.of("server_error", "simulator bug: " + problem).envelope()
        error.status = status
        return status, error.envelope()

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization") or ""
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise APIError.of("unauthorized", "unable to authenticate")
        if self.token is not None and token.strip() != str(self.token):
            raise APIError.of("unauthorized", "unable to authenticate")

    def _parse(self, request: Request, found: Any, path_params: dict[str, str]) -> Call:
        values, problems = self.contract.check_parameters(found, path_params, request.query)
        if any(problem.name in path_params for problem in problems):
            raise APIError.of("not_found", f"no such endpoint: {request.method} {request.path}")
        body = None
        if found.spec.get("requestBody") is not None:
            text = request.body.decode("utf-8", errors="replace").strip()
            try:
                body = json.loads(text) if text else {}
            except json.JSONDecodeError as error:
                raise APIError.of("json_error", f"invalid JSON input in your request: {error.msg}") from None
            problems += self.contract.check_request_body(found, body)  # always: the real API refuses these too
        if problems:
            raise APIError.fields([(problem.name, problem.message) for problem in problems])
        return Call(request, values, without_nulls(body))

    def _answer(self, found: Any, status: int, data: Any, headers: dict[str, str]) -> Response:
        if self.validate and found is not None:
            problems = self.contract.check_response(found, status, data)
            if problems:
                self.drift.append({"operation": f"{found.method} {found.template}", "problems": problems})
                print(f"hcloud simulator: response drifts from the spec: {problems[:3]}", file=sys.stderr)
                data = APIError.of("server_error", "simulator response does not match the spec: " + problems[0])
                data, status = data.envelope(), 500
        if status == 204:
            return Response(204, b"", headers)
        return Response.json(status, data, headers)

    def fault_response(self, fault: Fault) -> Response:
        """A status fault answered in the API's error envelope; ``body`` may name the code or be an error object."""
        status = fault.status or 500
        code = CODE_FOR_STATUS.get(status, "server_error" if status >= 500 else "invalid_input")
        message, details = CODES.get(code, (status, code))[1], None
        if fault.body:
            try:
                given = json.loads(fault.body)
            except json.JSONDecodeError:
                given = fault.body.strip()
            if isinstance(given, dict):
                error = given.get("error", given)
                code, message, details = error.get("code", code), error.get("message", message), error.get("details")
            elif given in CODES:
                code, message = given, CODES[given][1]
            else:
                message = str(given)
        error = APIError(status, code, message, details if details is not None else DEFAULT_DETAILS.get(code))
        headers = {**self.rate_limit.headers(), **fault.headers}
        return Response.json(status, error.envelope(), headers)

    def reset_state(self) -> None:
        super().reset_state()
        self.store.clear()
        self.actions.clear()
        self.rate_limit.configure(self.rate_limit.limit)
        self.drift.clear()

    # --- helpers for handlers ---------------------------------------------------------------------------------
    def check_name(self, kind: str, body: dict[str, Any], required: bool) -> None:
        """The one name rule of every write that takes a name (create and update alike): not empty, for a server a
        hostname as RFC 1123 has it, for a volume the rule of POST /volumes (cloud.spec.json)."""
        if "name" not in body:
            if required:
                raise APIError.invalid_input("name", "is required")
            return
        name = body["name"]
        if name == "":
            raise APIError.invalid_input("name", "must not be empty")
        if kind == "servers" and not _HOSTNAME.fullmatch(name):
            raise APIError.invalid_input("name", "name must be a valid hostname (RFC 1123)")
        if kind == "volumes" and not _VOLUME_NAME.fullmatch(name):
            message = "a volume name is 1 to 64 letters, digits, '-', '_' and '.', starting and ending alphanumeric"
            raise APIError.invalid_input("name", message)

    def update_named(self, kind: str, resource: dict[str, Any], body: dict[str, Any]) -> None:
        """PUT on a resource: name (unique per kind) and labels, plus any other documented scalar fields."""
        self.check_name(kind, body, required=False)
        with self.store.lock:
            if "name" in body and body["name"] != resource.get("name"):
                if any(item.get("name") == body["name"] for item in self.store.all(kind)):
                    raise APIError.of("uniqueness_error", "name is already used", {"fields": [{"name": "name"}]})
            if "labels" in body:
                check_labels(body["labels"])
            for key, value in body.items():
                if (key in resource and not isinstance(resource[key], (list, dict))) or key == "labels":
                    resource[key] = value
            self.store.save()

    def listing(self, call: Call, key: str, items: list[dict[str, Any]], show: Callable[..., Any] = public) -> Any:
        """Filter by ``name``/``label_selector``, sort, paginate, answer ``{key: [...], "meta": ...}``."""
        name = call.get("name")
        if name is not None:
            items = [item for item in items if item.get("name") == name]
        selector = call.get("label_selector")
        if selector:
            requirements = parse_selector(selector)
            items = [item for item in items if selector_matches(item.get("labels") or {}, requirements)]
        for order in reversed(call.get("sort") or []):
            field_name, _colon, direction = order.partition(":")
            items = sorted(items, key=lambda item: (item.get(field_name) is None, item.get(field_name) or 0))
            if direction == "desc":
                items.reverse()
        chosen, pagination = paginate(items, call.get("page", 1), call.get("per_page", 25))
        call.headers["Link"] = _link_header(call.request, pagination)
        return 200, {key: [show(item) for item in chosen], "meta": {"pagination": pagination}}


def _link_header(request: Request, pagination: dict[str, Any]) -> str:
    """The pagination ``Link`` header of api-overview.md: prev, next and last pages, the other parameters kept."""
    base = f"http://{request.headers.get('Host') or 'localhost'}{quote(request.path)}"
    links = []
    for rel, page in (("prev", "previous_page"), ("next", "next_page"), ("last", "last_page")):
        if pagination[page] is not None:
            query = {**request.query, "page": [str(pagination[page])], "per_page": [str(pagination["per_page"])]}
            links.append(f'<{base}?{urlencode(query, doseq=True)}>; rel="{rel}"')
    return ", ".join(links)


def _latency_option(value: Any) -> dict[str, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"*": float(value)}
    if isinstance(value, str):
        return {"*": float(value)} if value.replace(".", "", 1).isdigit() else json.loads(value)
    if isinstance(value, dict):
        return {str(key): float(ms) for key, ms in value.items()}
    raise ValueError("action_latency_ms is milliseconds, or a mapping of action command to milliseconds")
