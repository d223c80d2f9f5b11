"""v1 deployed on a fresh host by the converge: the test bed and the deploy's result."""

from __future__ import annotations

import json

import testbed
from conftest import APP_PORT, APP_ROOT, APP_URL, DB_PORT, as_app_user, deploy


def test_hosts_run_systemd(app, db):
    for host in (app, db):
        assert host.run("systemctl is-system-running --wait").stdout.strip() in {"running", "degraded"}
        assert host.run("readlink /proc/1/exe").stdout.strip().endswith("systemd")


def test_postgresql_answers_on_loopback_port(db):
    assert db.socket(f"tcp://127.0.0.1:{DB_PORT}").is_listening
    assert testbed.psql(db, "SELECT current_setting('server_version_num')::int / 10000", port=DB_PORT) == [["17"]]


def test_app_unit_runs_the_current_release_as_the_app_user(app):
    service = app.service("nekomorto")
    assert service.is_running
    assert service.is_enabled
    unit = app.file("/etc/systemd/system/nekomorto.service").content_string
    assert "User=nekomorto" in unit
    assert f"WorkingDirectory={APP_ROOT}/current" in unit
    assert f"EnvironmentFile={APP_ROOT}/shared/.env" in unit
    main_pid = app.run("systemctl show -p MainPID --value nekomorto").stdout.strip()
    assert app.run(f"ps -o user= -p {main_pid}").stdout.strip() == "nekomorto"
    assert app.socket(f"tcp://0.0.0.0:{APP_PORT}").is_listening


def test_env_file_is_private_and_complete(app):
    env_file = app.file(f"{APP_ROOT}/shared/.env")
    assert env_file.mode == 0o600
    assert env_file.user == "nekomorto"
    lines = env_file.content_string.splitlines()
    assert f"PORT={APP_PORT}" in lines
    assert "NODE_ENV=production" in lines
    # Defined but empty, as the real app needs GOOGLE_CLIENT_ID.
    assert "GOOGLE_CLIENT_ID=" in lines


def test_current_points_at_the_v1_release_with_shared_links(app):
    current = app.file(f"{APP_ROOT}/current")
    assert current.is_symlink
    release = current.linked_to
    assert release.startswith(f"{APP_ROOT}/releases/v1-")
    manifest = json.loads(app.file(f"{release}/.nekomorto-release.json").content_string)
    assert manifest["status"] == "built"
    assert manifest["version"] == "v1"
    assert app.file(f"{release}/.env").linked_to == f"{APP_ROOT}/shared/.env"
    assert app.file(f"{release}/public/uploads").linked_to == f"{APP_ROOT}/shared/public/uploads"
    assert app.file(f"{release}/backups").linked_to == f"{APP_ROOT}/shared/backups"


def test_health_is_ok_from_the_database(app):
    answer = testbed.http(f"{APP_URL}/api/health")
    assert answer.status == 200
    payload = answer.json()
    assert payload["status"] == "ok"
    assert payload["dataSource"] == "db"
    assert payload["maintenanceMode"] is False
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-API-Version"] == "v1"
    assert answer.headers["X-Request-Id"]
    live = testbed.http(f"{APP_URL}/api/health/live").json()
    assert live["ok"] is True and live["build"]["apiVersion"] == "v1"


def test_prisma_migrate_status_is_clean(app):
    status = as_app_user(app, "npx --no prisma migrate status")
    assert status.rc == 0, status.stdout + status.stderr
    assert "Database schema is up to date!" in status.stdout


def test_run_is_journaled_and_the_lock_released(app):
    last = json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])
    assert last["kind"] == "deploy"
    assert last["outcome"] == "success"
    assert last["version"] == "v1"
    assert not app.file(f"{APP_ROOT}/state/lock").exists


def test_the_journal_has_the_checks_and_the_durations(app):
    entries = [json.loads(line) for line in app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()]
    # The converge deployed v1 and restarted; molecule's idempotence run after it changed nothing.
    first = [entry for entry in entries if entry["kind"] == "deploy" and entry.get("restarted")][-1]
    rerun = entries[-1]
    checks = {check["name"]: check for check in first["checks"]}
    assert checks["health"]["status"] == "ok" and checks["health"]["data_source"] == "db"
    assert checks["health"]["maintenance_mode"] is False and checks["health"]["attempts"] >= 1
    assert checks["smoke"]["failed"] == 0 and checks["smoke"]["passed"] >= 8
    assert set(first["durations_s"]) == {"build", "migrations", "switch"}
    # npm ci and the build take seconds; the steps together fit inside the run.
    assert first["durations_s"]["build"] > 1 and min(first["durations_s"].values()) > 0
    assert sum(first["durations_s"].values()) <= first["duration_s"] + 1
    assert rerun["restarted"] is False and rerun["checks"] == [] and rerun["health"] == "not checked"
    assert set(rerun["durations_s"]) == {"build", "migrations", "switch"}


def test_redeploying_the_live_version_changes_and_restarts_nothing(app):
    pid_before = app.run("systemctl show -p MainPID --value nekomorto").stdout.strip()
    # Booleans given on the command line arrive as strings: the roles accept them.
    run = deploy("v1", "-e", "migrate_backup_before=false", "-e", "health_smoke=true",
                 "-e", "preflight_check_database=true", "-e", "service_auto_return=true")
    assert run.rc == 0, run.output[-3000:]
    assert run.recap()["nekomorto-app1"]["changed"] == 0
    assert "already live: nothing restarted" in run.output
    assert app.run("systemctl show -p MainPID --value nekomorto").stdout.strip() == pid_before


def test_a_drifted_app_user_is_put_back_and_an_unchanged_one_is_left_alone(app):
    # The user and group modules run only when the read finds them missing or different.
    app.run_test("usermod -s /bin/bash nekomorto")
    run = deploy("v1", "-e", "migrate_backup_before=false")
    assert run.rc == 0, run.output[-3000:]
    assert run.recap()["nekomorto-app1"]["changed"] == 1
    assert "changed: [nekomorto-app1]" in run.output.split("Host | Create the app user")[1].split("TASK")[0]
    entry = app.run("getent passwd nekomorto").stdout.strip().split(":")
    assert entry[5:] == [APP_ROOT, "/usr/sbin/nologin"]
    assert entry[3] == app.run("getent group nekomorto").stdout.strip().split(":")[2]
    again = deploy("v1", "-e", "migrate_backup_before=false")
    assert again.rc == 0, again.output[-3000:]
    assert again.recap()["nekomorto-app1"]["changed"] == 0
    assert "skipping: [nekomorto-app1]" in again.output.split("Host | Create the app user")[1].split("TASK")[0]
