"""A release that boots but reports `fail`: automatic return to the previous release, which serves again."""

from __future__ import annotations

import json

import testbed
from conftest import APP_ROOT, APP_URL, deploy, served_version


def test_unhealthy_release_returns_to_the_previous_one(app):
    live_before = app.file(f"{APP_ROOT}/current").linked_to
    run = deploy("v2-unhealthy", service_health_timeout=12)
    assert run.rc != 0
    assert "failed its health gate" in run.output
    assert "Returned to" in run.output
    assert "NOT reverted" in run.output
    assert app.file(f"{APP_ROOT}/current").linked_to == live_before
    assert served_version() == "v2"
    health = testbed.http(f"{APP_URL}/api/health")
    assert health.status == 200 and health.json()["status"] == "ok"
    failed = [line for line in app.run(f"cat {APP_ROOT}/releases/v2-unhealthy-*/.nekomorto-release.json").stdout.split("}")
              if '"failed"' in line]
    assert failed, "the unhealthy release is marked failed"
    last = json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])
    assert last["outcome"] == "failed"
    assert not app.file(f"{APP_ROOT}/state/lock").exists
