# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.app_health against a stand-in app on 127.0.0.1."""

from __future__ import annotations

import socket
import time
import typing as t
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.nekomorto.ops.plugins.modules import app_health
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.probe_harness import (
    DATABASE_DOWN,
    HEALTHY,
    LIVE,
    MAINTENANCE,
    Reply,
    StandInApp,
    healthy_after,
    json_reply,
    public_payload,
    run_module,
)

RESULT_KEYS = {
    "changed", "url", "http_status", "status", "data_source", "maintenance_mode",
    "payload", "attempts", "elapsed_ms", "latency_ms", "problems",
}


@pytest.fixture
def app() -> t.Iterator[StandInApp]:
    stand_in = StandInApp().start()
    yield stand_in
    stand_in.stop()


def _health(app_: StandInApp, **args: t.Any):
    return run_module(app_health.main, {"base_url": app_.base_url, **args})


def test_healthy_app_passes_and_returns_the_payload(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(HEALTHY)
    outcome = _health(app, expect_maintenance=False)
    assert not outcome.failed
    result = outcome.result
    assert set(result) >= RESULT_KEYS
    assert result["changed"] is False
    assert result["url"] == f"{app.base_url}/api/health"
    assert result["http_status"] == 200
    assert result["status"] == "ok"
    assert result["data_source"] == "db"
    assert result["maintenance_mode"] is False
    assert result["payload"] == HEALTHY
    assert result["attempts"] == 1
    assert result["problems"] == []
    assert result["latency_ms"] >= 0 and result["elapsed_ms"] >= result["latency_ms"]


def test_degraded_maintenance_passes_by_default_like_api_health_check(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(MAINTENANCE)
    outcome = _health(app, expect_maintenance=True)
    assert not outcome.failed
    assert outcome.result["status"] == "degraded"
    assert outcome.result["maintenance_mode"] is True


def test_degraded_fails_when_only_ok_is_accepted(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(MAINTENANCE)
    outcome = _health(app, accepted_statuses=["ok"])
    assert outcome.failed
    assert outcome.result["problems"] == [
        'status "degraded" (HTTP 200) is not one of ok; warning checks: maintenance: Maintenance mode is on'
    ]


def test_maintenance_mismatch_says_what_differed(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(MAINTENANCE)
    outcome = _health(app, expect_maintenance=False)
    assert outcome.failed
    assert outcome.result["problems"] == ["maintenanceMode is true, expected false"]
    assert outcome.result["msg"] == (
        f"health check of {app.base_url}/api/health failed after 1 attempt: maintenanceMode is true, expected false"
    )
    assert set(outcome.result) >= RESULT_KEYS


def test_database_down_503_names_the_critical_check(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(DATABASE_DOWN, status=503)
    outcome = _health(app)
    assert outcome.failed
    assert outcome.result["http_status"] == 503
    assert outcome.result["status"] == "fail"
    assert outcome.result["problems"] == [
        'status "fail" (HTTP 503); critical checks: database: connect ECONNREFUSED 127.0.0.1:5432'
    ]


def test_public_payload_names_critical_checks_without_messages(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(public_payload(DATABASE_DOWN), status=503)
    outcome = _health(app)
    assert outcome.result["problems"] == ['status "fail" (HTTP 503); critical checks: database']


def test_data_source_mismatch(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply({**HEALTHY, "dataSource": "json"})
    outcome = _health(app)
    assert outcome.failed
    assert outcome.result["problems"] == ['dataSource is "json", expected "db"']


@pytest.mark.parametrize("skip", [None, ""])
def test_data_source_check_can_be_skipped(app: StandInApp, skip: str | None) -> None:
    app.routes["/api/health/live"] = json_reply(LIVE)
    outcome = _health(app, path="/api/health/live", expect_source=skip)
    assert not outcome.failed, outcome.result
    assert outcome.result["data_source"] is None


def test_live_endpoint_fails_the_default_source_expectation(app: StandInApp) -> None:
    app.routes["/api/health/live"] = json_reply(LIVE)
    outcome = _health(app, path="/api/health/live")
    assert outcome.result["problems"] == ['dataSource is missing, expected "db"']


def test_non_json_body_is_reported_with_its_start(app: StandInApp) -> None:
    app.routes["/api/health"] = Reply(body="<!doctype html><html><body>Welcome</body></html>", content_type="text/html")
    outcome = _health(app)
    assert outcome.failed
    assert outcome.result["payload"] is None
    (problem,) = outcome.result["problems"]
    assert problem.startswith("the body is not JSON (text/html; ")
    assert problem.endswith("<!doctype html><html><body>Welcome</body></html>")


def test_non_2xx_without_json_reports_status_and_body(app: StandInApp) -> None:
    app.routes["/api/health"] = Reply(status=502, body="Bad Gateway", content_type="text/plain")
    outcome = _health(app)
    assert outcome.result["problems"] == ["HTTP 502: Bad Gateway"]
    assert outcome.result["http_status"] == 502


def test_2xx_with_non_object_json(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(["ok"])
    outcome = _health(app)
    assert outcome.result["problems"] == ['the body is JSON but not an object: ["ok"]']


def test_timeout_is_reported(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(HEALTHY, delay=1.0)
    outcome = _health(app, timeout=0.2)
    assert outcome.failed
    assert outcome.result["http_status"] is None
    assert outcome.result["problems"] == ["no answer within 0.2 s (timeout)"]


def test_max_wait_bounds_the_attempts_of_an_app_that_never_answers(app: StandInApp) -> None:
    # Without it: 20 attempts of a 1 s timeout and 0.1 s apart, about 22 s.
    app.routes["/api/health"] = json_reply(HEALTHY, delay=3.0)
    started = time.monotonic()
    outcome = _health(app, timeout=1.0, retries=19, delay=0.1, max_wait=1.5)
    took = time.monotonic() - started
    assert outcome.failed
    assert took < 3.0, took
    assert outcome.result["attempts"] == 2
    # The second request (at about 1.1 s) waited only what was left of max_wait, not its 1 s timeout.
    first, last = outcome.result["problems"]
    assert first.startswith("no answer within 0.") and first.endswith(" s (timeout)"), first
    assert last == "no healthy answer within max_wait 1.5 s"


def test_max_wait_leaves_a_healthy_answer_alone(app: StandInApp) -> None:
    app.routes["/api/health"] = healthy_after(2, json_reply(HEALTHY), json_reply(DATABASE_DOWN, status=503))
    outcome = _health(app, retries=5, delay=0.05, max_wait=10)
    assert not outcome.failed, outcome.result["problems"]
    assert outcome.result["attempts"] == 3


def test_connection_refused_is_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    outcome = run_module(app_health.main, {"base_url": f"http://127.0.0.1:{free_port}"})
    assert outcome.failed
    (problem,) = outcome.result["problems"]
    assert problem.startswith("connection failed: connection refused")
    assert set(outcome.result) >= RESULT_KEYS


def test_retries_until_the_app_becomes_healthy(app: StandInApp) -> None:
    app.routes["/api/health"] = healthy_after(2, good=json_reply(HEALTHY), bad=json_reply(DATABASE_DOWN, status=503))
    outcome = _health(app, retries=5, delay=0.01)
    assert not outcome.failed, outcome.result
    assert outcome.result["attempts"] == 3
    assert app.hits("/api/health") == 3


def test_retries_run_out_and_report_the_last_answer(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(MAINTENANCE)
    outcome = _health(app, expect_maintenance=False, retries=2, delay=0.01)
    assert outcome.failed
    assert outcome.result["attempts"] == 3
    assert outcome.result["msg"].startswith(f"health check of {app.base_url}/api/health failed after 3 attempts: ")


def test_retries_wait_for_the_maintenance_toggle(app: StandInApp) -> None:
    app.routes["/api/health"] = healthy_after(1, good=json_reply(MAINTENANCE), bad=json_reply(HEALTHY))
    outcome = _health(app, expect_maintenance=True, retries=3, delay=0.01)
    assert not outcome.failed
    assert outcome.result["attempts"] == 2


def test_token_is_sent_as_bearer_and_never_returned(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(HEALTHY)
    token = "s3cret-health-token"
    outcome = _health(app, token=token, headers={"X-Forwarded-For": "203.0.113.10"})
    assert not outcome.failed
    (request,) = app.requests
    assert request.headers["authorization"] == f"Bearer {token}"
    assert request.headers["x-forwarded-for"] == "203.0.113.10"
    assert token not in repr(outcome.result)


def test_path_prefix_of_base_url_is_kept(app: StandInApp) -> None:
    app.routes["/app/api/health/ready"] = json_reply(HEALTHY)
    outcome = run_module(app_health.main, {"base_url": f"{app.base_url}/app/", "path": "api/health/ready"})
    assert not outcome.failed
    assert outcome.result["url"] == f"{app.base_url}/app/api/health/ready"


def test_check_mode_runs_the_probe_for_real(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(HEALTHY)
    outcome = run_module(app_health.main, {"base_url": app.base_url}, check_mode=True)
    assert not outcome.failed
    assert outcome.result["changed"] is False
    assert app.hits("/api/health") == 1


def test_negative_retries_are_refused(app: StandInApp) -> None:
    outcome = _health(app, retries=-1)
    assert outcome.failed
    assert "retries, delay and max_wait must be 0 or more" in outcome.result["msg"]
    assert app.requests == []
    assert set(outcome.result) >= RESULT_KEYS


def test_a_body_that_trickles_in_is_cut_at_the_timeout(app: StandInApp) -> None:
    # Each byte comes before the socket's read timeout, so only the request's own deadline ends it:
    # without it the 40 bytes take 4 s and the answer passes.
    app.routes["/api/health"] = Reply(body=" " * 40, trickle=0.1)
    started = time.monotonic()
    outcome = _health(app, timeout=0.5)
    took = time.monotonic() - started
    assert outcome.failed
    assert took < 1.5, took
    assert outcome.result["problems"] == ["no complete answer within 0.5 s (its body was still arriving)"]


def test_the_loopback_is_asked_directly_whatever_proxy_the_environment_names(
    app: StandInApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        no_proxy_here = probe.getsockname()[1]
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{no_proxy_here}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    app.routes["/api/health"] = json_reply(HEALTHY)
    outcome = _health(app)
    assert not outcome.failed, outcome.result["problems"]
    assert app.hits("/api/health") == 1


def test_a_redirect_to_another_host_gets_neither_the_token_nor_a_secret_header(app: StandInApp) -> None:
    other = StandInApp({"/api/health": json_reply(HEALTHY)}).start()
    try:
        # The same server under another name: localhost instead of 127.0.0.1.
        elsewhere = other.base_url.replace("127.0.0.1", "localhost") + "/api/health"
        app.routes["/api/health"] = Reply(status=302, body="", headers={"Location": elsewhere})
        headers = {"X-Operational-Health-Token": "s3cret-header", "X-Forwarded-For": "203.0.113.10"}
        outcome = _health(app, token="s3cret-bearer", headers=headers)
        assert not outcome.failed, outcome.result["problems"]
        (followed,) = other.requests
        assert "authorization" not in followed.headers
        assert "x-operational-health-token" not in followed.headers
        assert followed.headers["x-forwarded-for"] == "203.0.113.10"
        # Where the answer came from.
        assert outcome.result["url"] == elsewhere
        assert "s3cret" not in repr(outcome.result)
    finally:
        other.stop()


def test_a_secret_header_is_masked_in_the_result(app: StandInApp) -> None:
    # The app echoes the header back in a problem: the token must not be shown.
    app.routes["/api/health"] = Reply(status=500, body="bad token s3cret-header-value", content_type="text/plain")
    outcome = _health(app, headers={"X-Operational-Health-Token": "s3cret-header-value"})
    assert outcome.failed
    assert "s3cret-header-value" not in repr(outcome.result)
    assert "bad token ********" in outcome.result["msg"]


def test_a_503_fail_passes_when_fail_is_accepted(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(DATABASE_DOWN, status=503)
    outcome = _health(app, accepted_statuses=["ok", "degraded", "fail"])
    assert not outcome.failed, outcome.result["problems"]
    assert outcome.result["status"] == "fail"
    # Another answer with fail is still an error.
    app.routes["/api/health"] = json_reply(DATABASE_DOWN, status=500)
    assert _health(app, accepted_statuses=["fail"]).failed


def test_the_live_endpoint_passes_without_the_source_expectation(app: StandInApp) -> None:
    app.routes["/api/health/live"] = json_reply(LIVE)
    outcome = _health(app, path="/api/health/live", expect_source=None)
    assert not outcome.failed, outcome.result["problems"]


def test_the_host_log_never_gets_a_secret_header(app: StandInApp) -> None:
    app.routes["/api/health"] = json_reply(HEALTHY)
    logged: list[str] = []
    with mock.patch.object(basic.AnsibleModule, "log", lambda _module, msg, log_args=None: logged.append(msg)):
        outcome = _health(app, headers={"X-Operational-Health-Token": "s3cret-header-value"})
    assert not outcome.failed
    assert logged and not any("s3cret-header-value" in message for message in logged), logged
