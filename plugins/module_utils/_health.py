# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading the app's health payload (C(GET /api/health)) against an operator's expectations."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field

from ansible_collections.nekomorto.ops.plugins.module_utils._http import HttpAnswer, snippet


@dataclass
class HealthExpectations:
    """What a healthy answer looks like; C(None) skips a check."""

    accepted_statuses: list[str] = field(default_factory=lambda: ["ok", "degraded"])
    expect_source: str | None = "db"
    expect_maintenance: bool | None = None


@dataclass
class HealthReading:
    """The facts read from one answer and what differed from the expectations."""

    http_status: int | None = None
    status: str | None = None
    data_source: str | None = None
    maintenance_mode: bool | None = None
    payload: dict[str, t.Any] | None = None
    problems: list[str] = field(default_factory=list)


def _quoted(value: t.Any) -> str:
    return json.dumps(value)


def _checks_with_status(payload: dict[str, t.Any], wanted: str) -> list[str]:
    """C(name: message) of each check in a given state (public payloads carry no message)."""
    described = []
    checks = payload.get("checks")
    for check in checks if isinstance(checks, list) else []:
        if not isinstance(check, dict) or check.get("status") != wanted:
            continue
        name = str(check.get("name", "?"))
        message = check.get("message")
        described.append(f"{name}: {message}" if message else name)
    return described


def _status_problem(reading: HealthReading, payload: dict[str, t.Any], accepted: list[str]) -> str | None:
    """Why the HTTP status or the payload's C(status) is not acceptable, or C(None)."""
    http_ok = reading.http_status is not None and 200 <= reading.http_status < 300
    # The app answers a failing health with 503 (APP_CONTRACT.md): a caller that accepts fail accepts that answer.
    if reading.status == "fail" and "fail" in accepted and reading.http_status == 503:
        http_ok = True
    status_ok = reading.status in accepted
    if http_ok and status_ok:
        return None
    if reading.status is None:
        problem = f"no status in the payload (HTTP {reading.http_status})"
    elif status_ok:
        problem = f"HTTP {reading.http_status} with status {_quoted(reading.status)}"
    else:
        problem = f"status {_quoted(reading.status)} (HTTP {reading.http_status})"
        if http_ok:
            problem += f" is not one of {', '.join(accepted)}"
    for state in ("critical", "warning"):
        described = _checks_with_status(payload, state)
        if described:
            problem += f"; {state} checks: {', '.join(described)}"
    return problem


def read_health(answer: HttpAnswer, expectations: HealthExpectations) -> HealthReading:
    """Compare one health answer with the expectations (a pure function of the answer)."""
    reading = HealthReading(http_status=answer.status)
    if answer.error is not None:
        reading.problems.append(answer.error)
        return reading

    payload, json_error = answer.json()
    if json_error is not None or not isinstance(payload, dict):
        if reading.http_status is None or not 200 <= reading.http_status < 300:
            reading.problems.append(f"HTTP {reading.http_status}: {snippet(answer.text) or '<empty body>'}")
        elif json_error is not None:
            reading.problems.append(f"the {json_error}")
        else:
            reading.problems.append(f"the body is JSON but not an object: {snippet(answer.text)}")
        return reading

    reading.payload = payload
    reading.status = payload.get("status") if isinstance(payload.get("status"), str) else None
    reading.data_source = payload.get("dataSource") if isinstance(payload.get("dataSource"), str) else None
    maintenance = payload.get("maintenanceMode")
    reading.maintenance_mode = maintenance if isinstance(maintenance, bool) else None

    status_problem = _status_problem(reading, payload, expectations.accepted_statuses)
    if status_problem:
        reading.problems.append(status_problem)

    if expectations.expect_source and reading.data_source != expectations.expect_source:
        if "dataSource" not in payload:
            reading.problems.append(f"dataSource is missing, expected {_quoted(expectations.expect_source)}")
        else:
            reading.problems.append(
                f"dataSource is {_quoted(payload['dataSource'])}, expected {_quoted(expectations.expect_source)}"
            )

    if expectations.expect_maintenance is not None and reading.maintenance_mode is not expectations.expect_maintenance:
        expected = _quoted(expectations.expect_maintenance)
        if "maintenanceMode" not in payload:
            reading.problems.append(f"maintenanceMode is missing, expected {expected}")
        else:
            reading.problems.append(f"maintenanceMode is {_quoted(payload['maintenanceMode'])}, expected {expected}")
    return reading
