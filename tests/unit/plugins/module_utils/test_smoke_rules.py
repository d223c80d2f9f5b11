# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pure parts of the smoke and health probes: URL joining, JSON paths, judging answers."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._health import HealthExpectations, read_health
from ansible_collections.nekomorto.ops.plugins.module_utils._http import HttpAnswer, join_url, snippet
from ansible_collections.nekomorto.ops.plugins.module_utils._smoke import (
    DEFAULT_CHECKS,
    SmokeCheckError,
    build_check,
    default_checks,
    has_path,
    judge,
)


@pytest.mark.parametrize(
    ("base_url", "path", "expected"),
    [
        ("http://127.0.0.1:8080", "/api/health", "http://127.0.0.1:8080/api/health"),
        ("http://127.0.0.1:8080/", "/api/health", "http://127.0.0.1:8080/api/health"),
        ("https://example.org/app", "api/health", "https://example.org/app/api/health"),
        ("https://example.org/app/", "/", "https://example.org/app/"),
        ("http://127.0.0.1:8080", "https://other.example/x", "https://other.example/x"),
        ("http://127.0.0.1:8080", "", "http://127.0.0.1:8080"),
    ],
)
def test_join_url(base_url: str, path: str, expected: str) -> None:
    assert join_url(base_url, path) == expected


def test_snippet_flattens_and_shortens() -> None:
    assert snippet("a\n  b\tc") == "a b c"
    assert snippet("x" * 500).endswith("...") and len(snippet("x" * 500)) == 163


PAYLOAD = {"status": "ok", "checks": [{"name": "database"}], "build": {"apiVersion": "v1"}, "summary": {"ok": 0}}


@pytest.mark.parametrize(
    ("path", "present"),
    [
        ("status", True),
        ("build.apiVersion", True),
        ("checks.0.name", True),
        ("checks.-1.name", True),
        ("checks.1.name", False),
        ("summary.ok", True),
        ("build.commitSha", False),
        ("status.x", False),
        ("checks.name", False),
    ],
)
def test_has_path(path: str, present: bool) -> None:
    assert has_path(PAYLOAD, path) is present


def _answer(status: int | None = 200, body: t.Any = None, content_type: str = "application/json", error: str | None = None,
            headers: dict[str, str] | None = None) -> HttpAnswer:
    text = body if isinstance(body, str) else json.dumps(body)
    return HttpAnswer(url="http://127.0.0.1/x", status=status, headers={"content-type": content_type, **(headers or {})},
                      text=text, error=error)


@pytest.mark.parametrize(
    ("raw", "answer", "problems"),
    [
        ({"path": "/"}, _answer(200, "<html>", "text/html"), []),
        ({"path": "/", "status": [200, 301]}, _answer(301, "", "text/html"), []),
        ({"path": "/", "status": "404"}, _answer(404, "", "text/html"), []),
        ({"path": "/"}, _answer(500, "boom", "text/plain"), ["HTTP 500, expected 200"]),
        ({"path": "/", "status": [200, 204]}, _answer(500, "x", "text/plain"), ["HTTP 500, expected 200 or 204"]),
        ({"path": "/", "content_type": "JSON"}, _answer(200, {}, "application/json"), []),
        ({"path": "/", "content_type": "json"}, _answer(200, "x", ""), ['content type null does not contain "json"']),
        ({"path": "/", "body_contains": ["<rss", "<channel"]}, _answer(200, "<rss>", "text/xml"), ['body does not contain "<channel"']),
        ({"path": "/", "json_fields": ["a.b", "c"]}, _answer(200, {"a": {"b": None}}), ["JSON lacks c"]),
        ({"path": "/", "json_equals": {"a": [1, True]}}, _answer(200, {"a": [1, True]}), []),
        ({"path": "/", "json_equals": {"a": [1, True]}}, _answer(200, {"a": [1, 1]}), ["a is [1, 1], expected [1, true]"]),
        ({"path": "/", "json_equals": {"n": 1}}, _answer(200, {"n": 1.0}), []),
        ({"path": "/", "json_equals": {"v": "v1"}}, _answer(200, {}), ['JSON lacks v (expected "v1")']),
        ({"path": "/"}, _answer(None, "", "", error="connection failed: refused"), ["connection failed: refused"]),
        ({"path": "/", "response_headers": {"Cache-Control": "No-Store", "X-Request-Id": ""}},
         _answer(200, {}, headers={"cache-control": "private, no-store", "x-request-id": "r-1"}), []),
        ({"path": "/", "response_headers": {"X-Request-Id": None}}, _answer(200, {}, headers={"x-request-id": ""}), []),
        ({"path": "/", "response_headers": {"X-Request-Id": ""}}, _answer(200, {}), ["no X-Request-Id header"]),
        ({"path": "/", "response_headers": {"Cache-Control": "no-store", "X-API-Version": "v1"}},
         _answer(200, {}, headers={"cache-control": "max-age=60", "x-api-version": "v1"}),
         ['Cache-Control is "max-age=60", expected it to contain "no-store"']),
    ],
)
def test_judge(raw: dict[str, t.Any], answer: HttpAnswer, problems: list[str]) -> None:
    assert judge(build_check(raw), answer) == problems


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "every check needs a path: {}"),
        ({"path": "/", "status": []}, "check 'GET /': status is an empty list"),
        ({"path": "/", "name": "x", "status": [200, None]}, "check 'x': status must be an HTTP status or a list of them, got None"),
    ],
)
def test_build_check_refuses(raw: dict[str, t.Any], message: str) -> None:
    with pytest.raises(SmokeCheckError) as error:
        build_check(raw)
    assert str(error.value) == message


def test_default_checks_mirror_api_smoke() -> None:
    checks = default_checks()
    assert [check.path for check in checks] == [raw["path"] for raw in DEFAULT_CHECKS]
    assert [check.status for check in checks][-1] == [404]
    assert all(check.method == "GET" for check in checks)
    # api:smoke's healthHeaders() on the three health answers, and on nothing else.
    assert [check.path for check in checks if check.response_headers] == ["/api/health/live", "/api/health/ready", "/api/health"]
    assert checks[0].response_headers == {"Cache-Control": "no-store", "X-Request-Id": "", "X-API-Version": "v1"}
    # build_check must not share the module-level lists with the checks it returns.
    checks[1].json_fields.append("extra")
    assert "extra" not in default_checks()[1].json_fields


HEALTHY = {"status": "ok", "dataSource": "db", "maintenanceMode": False, "checks": []}


@pytest.mark.parametrize(
    ("answer", "expectations", "problems"),
    [
        (_answer(200, HEALTHY), HealthExpectations(), []),
        (_answer(200, {**HEALTHY, "status": "degraded"}), HealthExpectations(), []),
        (_answer(200, {**HEALTHY, "status": "degraded"}), HealthExpectations(accepted_statuses=["ok"]),
         ['status "degraded" (HTTP 200) is not one of ok']),
        (_answer(200, {**HEALTHY, "status": "fail"}), HealthExpectations(accepted_statuses=["ok", "degraded", "fail"]), []),
        (_answer(503, {**HEALTHY, "status": "ok"}), HealthExpectations(), ['HTTP 503 with status "ok"']),
        (_answer(200, {"dataSource": "db"}), HealthExpectations(), ["no status in the payload (HTTP 200)"]),
        (_answer(200, {**HEALTHY, "maintenanceMode": True}), HealthExpectations(expect_maintenance=False),
         ["maintenanceMode is true, expected false"]),
        (_answer(200, {**HEALTHY, "maintenanceMode": "yes"}), HealthExpectations(expect_maintenance=True),
         ['maintenanceMode is "yes", expected true']),
        (_answer(200, {"status": "ok"}), HealthExpectations(expect_maintenance=True),
         ['dataSource is missing, expected "db"', "maintenanceMode is missing, expected true"]),
        (_answer(200, {**HEALTHY, "dataSource": "json"}), HealthExpectations(expect_source=None), []),
        (_answer(503, {**HEALTHY, "status": "fail", "dataSource": "json",
                       "checks": [{"name": "database", "status": "critical", "message": "timeout"},
                                  {"name": "uploads", "status": "warning"}]}),
         HealthExpectations(),
         ['status "fail" (HTTP 503); critical checks: database: timeout; warning checks: uploads',
          'dataSource is "json", expected "db"']),
        (_answer(None, "", "", error="no answer within 1 s (timeout)"), HealthExpectations(), ["no answer within 1 s (timeout)"]),
    ],
)
def test_read_health(answer: HttpAnswer, expectations: HealthExpectations, problems: list[str]) -> None:
    assert read_health(answer, expectations).problems == problems
