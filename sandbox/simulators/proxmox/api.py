"""The request pipeline of the PVE simulator: token auth, schema look-up, parameters, validation, answers.

Every request under ``/api2/json`` is matched to its documented (path, method) in the schema, its parameters
(query, form or JSON body, multipart for uploads, and the path's own placeholders) are checked against the
documented ones, the app's handler for that (method, path) runs (a method marked with
:func:`sandbox.httpbase.operation`), and its ``data`` is checked against the documented ``returns`` before it is
sent as ``{"data": ...}``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from ...httpbase import Request, Response
from . import validate

API_PREFIX = "/api2/json"
TOKEN_PREFIX = "PVEAPIToken="
# the methods the sandbox's HTTP server reads; PVE's API has only the first four, and answers the others 501
API_METHODS = ("GET", "POST", "PUT", "DELETE")
HTTP_METHODS = (*API_METHODS, "HEAD", "PATCH", "OPTIONS")


class PVEError(Exception):
    """An error answer: the message goes into the status line and the body, as PVE does."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class Call:
    """One API call after checking: typed parameters, the caller, uploaded files."""

    params: dict[str, Any]
    user: str  # user@realm!tokenid
    template: str
    files: dict[str, bytes] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


def error_response(error: PVEError) -> Response:
    if error.errors is not None:
        response = Response.json(error.status, {"errors": error.errors, "data": None})
    else:
        response = Response.json(error.status, {"data": None, "message": error.message.rstrip("\n") + "\n"})
    response.reason = error.message  # type: ignore[attr-defined]  # read by sandbox.server
    return response


def authenticate(request: Request, token: str) -> str:
    """The token's user (``user@realm!tokenid``); PVEError 401 otherwise."""
    header = request.headers.get("Authorization") or ""
    if not header.startswith(TOKEN_PREFIX):
        raise PVEError(401, "No ticket")
    given = header[len(TOKEN_PREFIX) :].strip()
    user, separator, _secret = given.rpartition("=")
    if not separator or "!" not in user:
        raise PVEError(401, "invalid token format")
    if given != token:
        raise PVEError(401, "invalid token value!")
    return user


def request_parameters(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Parameters from the query string and the body (form, JSON or multipart), and uploaded files."""
    given: dict[str, Any] = {}
    for key, values in request.query.items():
        given[key] = values if len(values) > 1 else values[0]
    files: dict[str, bytes] = {}
    kind = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if not request.body:
        return given, files
    if kind == "application/json":
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PVEError(400, "Parameter verification failed.", {"body": "invalid JSON"}) from None
        if not isinstance(data, dict):
            raise PVEError(400, "Parameter verification failed.", {"body": "JSON body must be an object"})
        given.update(data)
    elif kind == "multipart/form-data":
        header = f"Content-Type: {request.headers.get('Content-Type')}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + request.body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                given[str(name)] = filename
                files[str(name)] = payload
            elif name:
                given[str(name)] = payload.decode("utf-8", errors="replace")
    else:
        for key, values in parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True).items():
            given[key] = values if len(values) > 1 else values[0]
    return given, files


def dispatch(app: Any, request: Request) -> Response:
    """Answer one API request (``app`` is the ProxmoxApp: token, schema, validation flag, state, handlers)."""
    concrete = request.path[len(API_PREFIX) :] or "/"
    concrete = concrete.rstrip("/") or "/"
    try:
        if request.method not in API_METHODS:  # refused before the token is looked at, as pveproxy does
            raise PVEError(501, f"Method '{request.method} {API_PREFIX}{concrete}' not implemented")
        user = authenticate(request, app.token)
        found = app.schema.find(concrete, request.method)
        if not found:
            raise PVEError(501, f"Method '{request.method} {API_PREFIX}{concrete}' not implemented")
        given, files = request_parameters(request)
        overlap = set(given) & set(found.path_params)
        if overlap:
            raise PVEError(400, "Parameter verification failed.", {name: "duplicate parameter" for name in overlap})
        given.update(found.path_params)
        values, errors = validate.check_parameters(found.method.parameters, given)
        resource = app.schema.method(found.method.path, "GET")
        for name, message in validate.check_option_lists(found.method, resource, values).items():
            errors.setdefault(name, message)
        if errors and app.validation:
            raise PVEError(400, "Parameter verification failed.", errors)
        for name in errors:
            values.setdefault(name, given.get(name))
        handler = app.handler_for(request.method, found.method.path)
        if handler is None:
            raise PVEError(501, f"Method '{request.method} {found.method.path}' is not implemented by the simulator")
        call = Call(values, user, found.method.path, files)
        if "node" in values:
            app.require_node(values["node"])
        data = handler(call)
    except PVEError as error:
        return error_response(error)
    problems = validate.check_returns(found.method.returns, data) if app.validation else []
    if problems:
        message = f"simulator response drifts from the PVE schema ({found.method.path}): " + "; ".join(problems[:5])
        print(message, file=sys.stderr)
        return error_response(PVEError(500, message))
    return Response.json(200, {"data": data})
