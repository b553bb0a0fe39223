"""The API's error envelope ``{"error": {"code", "message", "details"}}`` with the statuses of api-overview.md."""

from __future__ import annotations

from typing import Any

# code -> (status, default message), from tests/contracts/hetzner-cloud/api-overview.md "Error Codes". The codes
# of one operation ("Operation specific errors" in cloud.spec.json, e.g. ``resource_in_use``) are not here: their
# status is the operation's (Operation.errors), and may differ between operations (see status_of).
CODES: dict[str, tuple[int, str]] = {
    "json_error": (400, "invalid JSON input in your request"),
    "unauthorized": (401, "unable to authenticate"),
    "token_readonly": (401, "the token is only allowed to perform GET requests"),
    "forbidden": (403, "insufficient permissions for this request"),
    "maintenance": (403, "cannot perform operation due to maintenance"),
    "resource_limit_exceeded": (403, "project limit exceeded"),
    "not_found": (404, "entity not found"),
    "method_not_allowed": (405, "the request method is not allowed"),
    "uniqueness_error": (409, "one or more of the objects fields must be unique"),
    "conflict": (409, "the resource has changed during the request, please retry"),
    "deprecated_api_endpoint": (410, "API functionality was removed"),
    "resource_unavailable": (412, "the requested resource is currently unavailable"),
    "invalid_input": (422, "invalid input"),
    "service_error": (422, "error within a service"),
    "unsupported_error": (422, "the resource does not support the action"),
    "locked": (423, "the item you are trying to access is locked (there is already an action running)"),
    "protected": (423, "the action you are trying to start is protected for this resource"),
    "rate_limit_exceeded": (429, "limit of 3600 requests per hour reached"),
    "server_error": (500, "error within the API backend"),
    "bad_gateway": (502, "the request could not be answered by the API backend, please retry"),
    "unavailable": (503, "a service or product is currently not available"),
    "timeout": (504, "the request could not be answered in time, please retry"),
}
# Codes of the simulator itself, outside the contract: an operation the spec has and the sandbox does not serve.
# 501 and a code of its own, so that no client takes it for "not found" (404), a fault to retry (503) or a
# refusal of its input (422).
SANDBOX_CODES: dict[str, tuple[int, str]] = {
    "not_simulated": (501, "the sandbox does not simulate this operation"),
}
CODE_FOR_STATUS = {
    400: "json_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "deprecated_api_endpoint",
    412: "resource_unavailable",
    422: "invalid_input",
    423: "locked",
    429: "rate_limit_exceeded",
    500: "server_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "timeout",
}
DEFAULT_DETAILS: dict[str, dict[str, Any]] = {
    "uniqueness_error": {"fields": [{"name": "name"}]},
    "resource_limit_exceeded": {"limits": [{"name": "project_limit"}]},
}


def status_of(code: str, operation_errors: dict[str, int]) -> int | None:
    """The status an operation answers ``code`` with: its own table first, then the general one; None if neither."""
    if code in operation_errors:
        return operation_errors[code]
    known = CODES.get(code) or SANDBOX_CODES.get(code)
    return known[0] if known else None


class APIError(Exception):
    """An error answer; raised by handlers, turned into the envelope by the app."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    @classmethod
    def of(cls, code: str, message: str | None = None, details: dict[str, Any] | None = None) -> APIError:
        """An error by its code; an operation-specific code's status is set when answered (HcloudCore.dispatch)."""
        status, default = CODES.get(code) or SANDBOX_CODES.get(code) or (0, code)
        return cls(status, code, message or default, details if details is not None else DEFAULT_DETAILS.get(code))

    @classmethod
    def invalid_input(cls, field: str, message: str) -> APIError:
        return cls.fields([(field, message)])

    @classmethod
    def fields(cls, problems: list[tuple[str, str]]) -> APIError:
        """invalid_input naming every field at fault, as the API does."""
        merged: dict[str, list[str]] = {}
        for name, message in problems:
            merged.setdefault(name, []).append(message)
        first, messages = next(iter(merged.items()))
        text = (
            f"invalid input in field '{first}'"
            if len(merged) == 1
            else "invalid input in fields '" + ("', '".join(merged) + "'")
        )
        details = {"fields": [{"name": name, "messages": texts} for name, texts in merged.items()]}
        return cls(CODES["invalid_input"][0], "invalid_input", f"{text}: {messages[0]}", details)

    def envelope(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}
