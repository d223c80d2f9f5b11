"""The stand-in app honours the contract's [fixture] points on a real host (APP_CONTRACT.md)."""

from __future__ import annotations

import pytest

import testbed
from conftest import APP_ROOT, DB_PORT, as_app_user

MAINT_PORT = 38089
MAINT_URL = f"http://127.0.0.1:{MAINT_PORT}"


@pytest.fixture(scope="module")
def maintenance_instance(app):
    """A second instance of the live release with MAINTENANCE_MODE=true; the rest comes from .env."""
    app.run("systemctl stop standin-maint; systemctl reset-failed standin-maint")
    started = app.run(
        "systemd-run --unit standin-maint -p User=nekomorto -p WorkingDirectory=%s/current "
        "-E NODE_ENV=production -E PORT=%s -E MAINTENANCE_MODE=true /usr/bin/node server/index.js",
        APP_ROOT, str(MAINT_PORT),
    )
    assert started.rc == 0, started.stderr
    assert testbed.wait_for(lambda: _answers(f"{MAINT_URL}/api/health/live"), timeout=30)
    yield MAINT_URL
    app.run("systemctl stop standin-maint")


def _answers(url: str) -> bool:
    try:
        return testbed.http(url, timeout=1).status == 200
    except OSError:
        return False


def test_maintenance_refuses_writes_under_api(maintenance_instance):
    refused = testbed.http(f"{maintenance_instance}/api/posts", method="POST", body={"title": "x", "body": "y"})
    assert refused.status == 503
    assert refused.json() == {"error": "maintenance_mode"}
    for method in ("PUT", "PATCH", "DELETE"):
        assert testbed.http(f"{maintenance_instance}/api/posts/1", method=method, body={}).status == 503


def test_maintenance_still_serves_reads_and_pages(maintenance_instance):
    assert testbed.http(f"{maintenance_instance}/api/posts").status == 200
    assert testbed.http(f"{maintenance_instance}/").status == 200


def test_maintenance_health_is_degraded_with_http_200(maintenance_instance):
    answer = testbed.http(f"{maintenance_instance}/api/health")
    assert answer.status == 200
    payload = answer.json()
    assert payload["maintenanceMode"] is True
    assert payload["status"] == "degraded"


def test_writes_are_accepted_without_maintenance():
    from conftest import APP_URL

    created = testbed.http(f"{APP_URL}/api/posts", method="POST", body={"title": "contract", "body": "write"})
    assert created.status in (200, 201), created.body


def test_server_refuses_to_start_without_database_url(app):
    result = app.run(
        "cd /tmp && runuser -u nekomorto -- env -i PATH=/usr/bin:/bin NODE_ENV=production "
        "/usr/bin/node %s/current/server/index.js", APP_ROOT,
    )
    assert result.rc == 1
    assert "DATABASE_URL is required" in result.stderr + result.stdout


def test_ops_scripts_need_the_env_file(app):
    app.run("rm -rf /tmp/noenv && mkdir /tmp/noenv && cp %s/current/package.json /tmp/noenv/ && "
            "ln -s %s/current/node_modules %s/current/scripts /tmp/noenv/ && chown -R nekomorto /tmp/noenv",
            APP_ROOT, APP_ROOT, APP_ROOT)
    result = as_app_user(app, "npm run --silent uploads:reorganize", cwd="/tmp/noenv")
    assert result.rc != 0
    assert ".env: not found" in result.stderr + result.stdout


def test_generate_inventory_is_not_idempotent(app, db):
    seeded = as_app_user(app, "npm run --silent db:seed")
    assert seeded.rc == 0, seeded.stderr
    testbed.psql(db, "DELETE FROM uploads", port=DB_PORT)
    first = as_app_user(app, "npm run --silent uploads:generate-inventory")
    assert first.rc == 0, first.stdout + first.stderr
    second = as_app_user(app, "npm run --silent uploads:generate-inventory")
    assert second.rc != 0
    assert "Unique constraint failed on the fields" in second.stdout + second.stderr
