# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.app_smoke against a stand-in app on 127.0.0.1."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import app_smoke
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.probe_harness import (
    DATABASE_DOWN,
    HEALTHY,
    LIVE,
    MAINTENANCE,
    Reply,
    StandInApp,
    json_reply,
    public_payload,
    run_module,
)

RESULT_KEYS = {"changed", "results", "passed", "failed_count", "elapsed_ms"}
CHECK_KEYS = {"name", "method", "url", "http_status", "ok", "latency_ms", "problems"}

RSS = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>nekomorto</title></channel></rss>'


def healthy_site() -> dict[str, t.Any]:
    """Every route the app's api:smoke visits, answering as the app does to a public client."""
    return {
        "/api/health/live": json_reply(LIVE),
        "/api/health/ready": json_reply(public_payload(HEALTHY)),
        "/api/health": json_reply(public_payload(HEALTHY)),
        "/api/contracts/v1.json": json_reply({"version": "v1", "endpoints": [{"method": "GET", "path": "/api/posts"}]}),
        "/sitemap.xml": Reply(body='<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
                              content_type="application/xml"),
        "/rss.xml": Reply(body=RSS, content_type="application/rss+xml"),
        "/projects/rss.xml": Reply(body=RSS, content_type="application/rss+xml"),
        "/": Reply(body='<!doctype html><html lang="pt-BR"><head></head><body><div id="root"></div></body></html>',
                   content_type="text/html; charset=utf-8"),
        "/manifest.webmanifest": json_reply({"name": "nekomorto", "short_name": "nekomorto"},
                                            content_type="application/manifest+json"),
    }


@pytest.fixture
def app() -> t.Iterator[StandInApp]:
    stand_in = StandInApp(healthy_site()).start()
    yield stand_in
    stand_in.stop()


def _by_name(result: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {item["name"]: item for item in result["results"]}


def test_default_checks_pass_on_a_healthy_site(app: StandInApp) -> None:
    outcome = run_module(app_smoke.main, {"base_url": app.base_url})
    assert not outcome.failed, outcome.result.get("msg")
    result = outcome.result
    assert set(result) >= RESULT_KEYS
    assert result["changed"] is False
    assert (result["passed"], result["failed_count"]) == (10, 0)
    assert [item["url"] for item in result["results"]] == [
        f"{app.base_url}{path}"
        for path in (
            "/api/health/live", "/api/health/ready", "/api/health", "/api/contracts/v1.json", "/sitemap.xml",
            "/rss.xml", "/projects/rss.xml", "/", "/manifest.webmanifest", "/assets/__smoke_missing__.js",
        )
    ]
    for item in result["results"]:
        assert set(item) == CHECK_KEYS
        assert item["ok"] is True and item["problems"] == [] and item["method"] == "GET"
    assert _by_name(result)["missing asset is a 404"]["http_status"] == 404


def test_every_check_runs_and_failures_are_listed_with_reasons(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(public_payload(DATABASE_DOWN), status=503)
    app.routes["/rss.xml"] = Reply(body="<html>oops</html>", content_type="text/html")
    app.routes["/assets/__smoke_missing__.js"] = Reply(body="<!doctype html><html></html>", content_type="text/html")
    outcome = run_module(app_smoke.main, {"base_url": app.base_url})
    assert outcome.failed
    result = outcome.result
    assert (result["passed"], result["failed_count"]) == (7, 3)
    assert len(result["results"]) == 10
    checks = _by_name(result)
    assert checks["health"]["problems"] == ["HTTP 503, expected 200"]
    assert checks["RSS feed"]["problems"] == ['body does not contain "<rss"']
    assert checks["missing asset is a 404"]["problems"] == ["HTTP 200, expected 404"]
    assert result["msg"] == (
        f"3 of 10 smoke checks failed: health ({app.base_url}/api/health): HTTP 503, expected 200"
        f' | RSS feed ({app.base_url}/rss.xml): body does not contain "<rss"'
        f" | missing asset is a 404 ({app.base_url}/assets/__smoke_missing__.js): HTTP 200, expected 404"
    )


def test_default_checks_want_the_health_headers(app: StandInApp) -> None:
    app.routes["/api/health/live"] = json_reply(LIVE, headers={"Cache-Control": "public, max-age=30"})
    app.routes["/api/health"] = json_reply(public_payload(HEALTHY), headers={"X-Request-Id": None, "X-API-Version": "v2"})
    app.routes["/sitemap.xml"] = Reply(body="<urlset></urlset>", content_type="application/xml", headers={"X-Request-Id": None})
    outcome = run_module(app_smoke.main, {"base_url": app.base_url})
    assert outcome.failed
    checks = _by_name(outcome.result)
    assert outcome.result["failed_count"] == 2
    assert checks["health live"]["problems"] == ['Cache-Control is "public, max-age=30", expected it to contain "no-store"']
    assert checks["health"]["problems"] == ["no X-Request-Id header", 'X-API-Version is "v2", expected it to contain "v1"']
    assert checks["sitemap"]["ok"] is True


def test_json_field_and_value_assertions(app: StandInApp) -> None:
    app.routes["/api/contracts/v1.json"] = json_reply({"version": "v2"})
    app.routes["/manifest.webmanifest"] = Reply(body="{not json", content_type="application/manifest+json")
    outcome = run_module(app_smoke.main, {"base_url": app.base_url})
    checks = _by_name(outcome.result)
    assert checks["API contract v1"]["problems"] == ["JSON lacks endpoints", 'version is "v2", expected "v1"']
    (problem,) = checks["web manifest"]["problems"]
    assert problem.startswith("body is not JSON (application/manifest+json; ")


def test_content_type_assertion(app: StandInApp) -> None:
    app.routes["/"] = Reply(body="<html></html>", content_type="text/plain")
    outcome = run_module(app_smoke.main, {"base_url": app.base_url})
    assert _by_name(outcome.result)["home page"]["problems"] == ['content type "text/plain" does not contain "text/html"']


def test_custom_checks_with_methods_statuses_and_headers(app: StandInApp) -> None:
    app.routes["POST /api/posts"] = json_reply({"error": "maintenance_mode"}, status=503)
    app.routes["/api/health"] = json_reply(MAINTENANCE)
    checks = [
        {"name": "writes refused", "method": "post", "path": "/api/posts", "status": 503,
         "json_equals": {"error": "maintenance_mode"}},
        {"path": "/api/health", "status": [200, 204], "json_fields": ["checks.0.name", "build.apiVersion"],
         "json_equals": {"maintenanceMode": True, "summary.warning": 1}, "headers": {"X-Check": "one"}},
    ]
    outcome = run_module(app_smoke.main, {"base_url": app.base_url, "checks": checks, "headers": {"X-Forwarded-For": "203.0.113.10"}})
    assert not outcome.failed, outcome.result.get("msg")
    assert [item["name"] for item in outcome.result["results"]] == ["writes refused", "GET /api/health"]
    assert outcome.result["results"][0]["method"] == "POST"
    post, get = app.requests
    assert (post.method, get.method) == ("POST", "GET")
    assert post.headers["x-forwarded-for"] == "203.0.113.10"
    assert get.headers["x-check"] == "one" and get.headers["x-forwarded-for"] == "203.0.113.10"


def test_json_equals_does_not_confuse_true_with_1(app: StandInApp) -> None:
    app.routes["/flags"] = json_reply({"enabled": 1})
    outcome = run_module(app_smoke.main, {"base_url": app.base_url, "checks": [{"path": "/flags", "json_equals": {"enabled": True}}]})
    assert outcome.result["results"][0]["problems"] == ["enabled is 1, expected true"]


def test_timeout_and_connection_errors_are_check_failures(app: StandInApp) -> None:
    app.routes["/slow"] = Reply(body="late", delay=1.0)
    checks = [{"path": "/slow"}, {"path": "http://127.0.0.1:9/unreachable"}, {"path": "/"}]
    outcome = run_module(app_smoke.main, {"base_url": app.base_url, "checks": checks, "timeout": 0.2})
    results = outcome.result["results"]
    assert results[0]["problems"] == ["no answer within 0.2 s (timeout)"]
    assert results[0]["http_status"] is None
    assert results[1]["problems"][0].startswith("connection failed: ")
    assert results[2]["ok"] is True
    assert (outcome.result["passed"], outcome.result["failed_count"]) == (1, 2)


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ([], "checks is an empty list: omit it to run the app's smoke checks"),
        ([{"path": "/", "status": "two hundred"}], "check 'GET /': status must be an HTTP status or a list of them, got 'two hundred'"),
        ([{"path": "/", "status": 999}], "check 'GET /': 999 is not an HTTP status"),
    ],
)
def test_invalid_checks_fail_before_any_request(app: StandInApp, checks: list[dict[str, t.Any]], message: str) -> None:
    outcome = run_module(app_smoke.main, {"base_url": app.base_url, "checks": checks})
    assert outcome.failed
    assert outcome.result["msg"] == message
    assert set(outcome.result) >= RESULT_KEYS
    assert app.requests == []


def test_check_mode_runs_the_checks_for_real(app: StandInApp) -> None:
    outcome = run_module(app_smoke.main, {"base_url": app.base_url}, check_mode=True)
    assert not outcome.failed
    assert outcome.result["changed"] is False
    assert len(app.requests) == 10
