"""The database going away: health answers 503 `fail` naming the check, and the app recovers after."""

from __future__ import annotations

import testbed
from conftest import APP_URL


def test_health_fails_while_the_database_is_down_and_recovers(db):
    db.run("systemctl stop postgresql@17-main")
    try:
        down = testbed.wait_for(lambda: testbed.http(f"{APP_URL}/api/health").status == 503, timeout=20)
        assert down
        answer = testbed.http(f"{APP_URL}/api/health")
        payload = answer.json()
        assert payload["status"] == "fail"
        assert any(check["name"] == "database" and check["status"] == "critical" for check in payload["checks"])
        live = testbed.http(f"{APP_URL}/api/health/live")
        assert live.status == 200
        run = testbed.run_playbook("playbooks/health.yml", extra_vars={"health_retries": 1, "health_delay": 1})
        assert run.rc != 0
        assert "critical checks: database" in run.output
    finally:
        db.run("systemctl start postgresql@17-main")
    assert testbed.wait_for(lambda: testbed.http(f"{APP_URL}/api/health").status == 200, timeout=30)
    run = testbed.run_playbook("playbooks/health.yml")
    assert run.rc == 0, run.output[-3000:]
