"""The simulator reads every row of every "Operation specific errors" table of cloud.spec.json.

A code the parser misses (``server_has_ipv4`` has a digit) would be answered as a simulator bug (500) where the
contract gives it a status of its own.
"""

from __future__ import annotations

import re

from sandbox.simulators.hcloud.contract import operation_errors, shared_contract

_ROW = re.compile(r"^\|\s*`(\d{3})`\s*\|\s*`([^`]+)`\s*\|", re.MULTILINE)


def test_every_row_of_every_operation_error_table_is_read() -> None:
    missed = []
    for operation in shared_contract().operations:
        description = operation.spec.get("description", "")
        _before, _heading, section = description.partition("Operation specific errors")
        rows = {code: int(status) for status, code in _ROW.findall(section)}
        if operation.errors != rows:
            missed.append((operation.method, operation.template, sorted(set(rows) - set(operation.errors))))
    assert missed == []


def test_codes_with_digits_are_read() -> None:
    table = "#### Operation specific errors\n\n| Status | Code |\n| --- | --- |\n| `422` | `server_has_ipv4` | x |\n"
    assert operation_errors(table) == {"server_has_ipv4": 422}
