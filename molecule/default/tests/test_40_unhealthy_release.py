"""A release that boots but reports `fail`: automatic return to the previous release, which serves again."""

from __future__ import annotations

import json

import testbed
from conftest import APP_ROOT, APP_URL, app_env, deploy, served_version


def _env_file(app) -> tuple[str, str]:
    return (app.run(f"sha256sum {APP_ROOT}/shared/.env").stdout.split()[0],
            app.run(f"stat -c %Y {APP_ROOT}/shared/.env").stdout.strip())


def test_unhealthy_release_returns_to_the_previous_one(app):
    live_before = app.file(f"{APP_ROOT}/current").linked_to
    env_before = _env_file(app)
    # With a new variable: the previous release must come back with the environment it ran with.
    run = deploy("v2-unhealthy", service_health_timeout=12, app_env=app_env(FEATURE_BANNER="returned"))
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
    assert _env_file(app) == env_before
    assert not app.file(f"{APP_ROOT}/shared/.env.previous").exists
    main_pid = app.run("systemctl show -p MainPID --value nekomorto").stdout.strip()
    assert "FEATURE_BANNER" not in app.run(f"tr '\\0' '\\n' < /proc/{main_pid}/environ").stdout
    # The env file is back as it was, content and time: the live release is converged, nothing restarts.
    again = deploy("v2")
    assert again.rc == 0, again.output[-3000:]
    assert "already live: nothing restarted" in again.output
    assert app.run("systemctl show -p MainPID --value nekomorto").stdout.strip() == main_pid
