"""Opening and closing alone, on both app hosts at once, and what the other playbooks see meanwhile."""

from __future__ import annotations

import pytest

import testbed
from conftest import APP_ROOT, DB_PORT, HOSTS, MARKER, journal, maintenance, maintenance_mode, marker, said


# The env files as the deploy rendered them: a closed window leaves them so (the next deploy changes nothing).
DEPLOYED_ENV: dict[str, str] = {}


def test_converge_seeded_the_first_app_host(apps, app1, app2):
    DEPLOYED_ENV.update({name: host.file(f"{APP_ROOT}/shared/.env").sha256sum for name, host in apps.items()})
    assert app1.file(f"{APP_ROOT}/shared/public/uploads/legacy/boreal-cover.png").exists
    # The stand-in keeps uploads on each host's disk; the operations run on the first app host only.
    assert not app2.file(f"{APP_ROOT}/shared/public/uploads/legacy").exists
    for url in HOSTS.values():
        assert maintenance_mode(url) is False


def test_open_switches_every_app_host_together(apps):
    run = maintenance(maintenance_state="open", maintenance_reason="tests: work by hand")
    assert run.rc == 0, run.output
    assert said(run, "Window OPEN on nekomorto-mt-app1, nekomorto-mt-app2")
    for name, url in HOSTS.items():
        host = apps[name]
        health = testbed.http(f"{url}/api/health").json()
        assert health["maintenanceMode"] is True
        assert health["status"] == "degraded"
        refused = testbed.http(f"{url}/api/posts", "POST", {"title": "refused"})
        assert refused.status == 503
        assert refused.json() == {"error": "maintenance_mode"}
        assert testbed.http(f"{url}/api/posts").status == 200
        assert testbed.http(f"{url}/").status == 200
        assert "MAINTENANCE_MODE=true" in host.file(f"{APP_ROOT}/shared/.env").content_string.splitlines()
        window = marker(host)
        assert window["reason"] == "tests: work by hand"
        assert window["opened_at"].endswith("Z")
        assert "@" in window["opened_by"]
        assert window["run_id"] == journal(host)[-1]["run_id"]
        assert host.file(MARKER).user == "nekomorto"
        assert host.file(MARKER).mode == 0o640
        assert not host.file(f"{APP_ROOT}/state/lock").exists


def test_health_playbook_reports_the_open_window():
    run = testbed.run_playbook("playbooks/health.yml")
    assert run.rc == 0, run.output
    assert said(run, "maintenance window is OPEN")
    assert said(run, "tests: work by hand")


def test_close_accepts_writes_again_on_every_app_host(apps):
    run = maintenance(maintenance_state="closed")
    assert run.rc == 0, run.output
    for name, url in HOSTS.items():
        host = apps[name]
        assert maintenance_mode(url) is False
        created = testbed.http(f"{url}/api/posts", "POST", {"title": f"written after the window on {name}"})
        assert created.status == 201, created.body
        assert testbed.http(f"{url}/api/posts/{created.json()['post']['id']}", "DELETE").status == 204
        assert marker(host) is None
        assert host.file(f"{APP_ROOT}/shared/.env").sha256sum == DEPLOYED_ENV[name]
        last = journal(host)[-1]
        assert last["kind"] == "maintenance"
        assert last["outcome"] == "success"
        assert last["window"] == "closed"
        assert last["restarts"] == ["maintenance off"]


def test_closing_a_closed_window_changes_nothing(apps):
    pids = {name: host.run("systemctl show -p MainPID --value nekomorto").stdout for name, host in apps.items()}
    checked = maintenance("--check", maintenance_state="closed")
    assert checked.rc == 0, checked.output
    assert said(checked, "A real run would change nothing: no window is open.")
    run = maintenance(maintenance_state="closed")
    assert run.rc == 0, run.output
    assert all(counters["changed"] == 0 for counters in run.recap().values()), run.output
    assert said(run, "No window was open on nekomorto-mt-app1, nekomorto-mt-app2: nothing to close")
    assert pids == {name: host.run("systemctl show -p MainPID --value nekomorto").stdout for name, host in apps.items()}


def test_closing_a_flag_set_by_hand_says_what_it_restarted(apps):
    """Runbook style, MAINTENANCE_MODE=true written by hand: closing restarted the app with the flag off, and
    said there had been nothing to close."""
    app1, url = apps["nekomorto-mt-app1"], HOSTS["nekomorto-mt-app1"]
    env = f"{APP_ROOT}/shared/.env"
    flag = f"sed -i '/^MAINTENANCE_MODE=/d' {env} && echo MAINTENANCE_MODE=true >> {env}"
    assert app1.run(f"{flag} && systemctl restart nekomorto").rc == 0

    def in_maintenance(expected: bool = True) -> bool:
        try:
            return maintenance_mode(url) is expected
        except OSError:  # not listening yet
            return False

    try:
        assert testbed.wait_for(in_maintenance, timeout=60)
        checked = maintenance("--check", maintenance_state="closed")
        assert checked.rc == 0, checked.output
        assert said(checked, "A real run would restart nekomorto-mt-app1 with MAINTENANCE_MODE off: no window is recorded there")
        run = maintenance(maintenance_state="closed")
        assert run.rc == 0, run.output
        assert said(run, "No window was recorded on nekomorto-mt-app1, but the app ran in maintenance mode there")
        assert maintenance_mode(url) is False
        assert app1.file(env).sha256sum == DEPLOYED_ENV["nekomorto-mt-app1"]
    finally:
        # Whatever failed, the next tests start from an app that accepts writes.
        if "MAINTENANCE_MODE=true" in app1.file(env).content_string.splitlines():
            app1.run(f"sed -i '/^MAINTENANCE_MODE=true$/d' {env} && systemctl restart nekomorto")
            testbed.wait_for(lambda: in_maintenance(False), timeout=60)


@pytest.mark.parametrize(("setting", "message"), [
    ({"service_strategy": "blue_green"}, "blue_green needs an edge the collection manages"),
    ({"service_drain_timeout": "30s"}, "service_drain_timeout"),
    ({"ops_task_timeout": 0}, "ops_task_timeout must be at least 1"),
    ({"service_restart": "sometimes"}, "value of service_restart must be one of"),
    ({"apply": "ture"}, 'apply must be true or false (or yes/no, on/off, 1/0; got "ture")'),
    # A project for tasks that take none was dropped: the apply would have run over every project.
    ({"project": "3"}, "project=3 is given, but none of the requested tasks (uploads_reorganize) takes a project"),
    ({"maintenance_tasks": [{"name": "uploads_reorganize", "projet": 3, "apply": "ture"}]},
     'uploads_reorganize: unknown key projet (known: name, apply, force, project, args); '
     'uploads_reorganize: apply must be true or false (got "ture")'),
    ({"ops_task_args": "--timeout-ms=20000"}, 'ops_task_args must be a list of script options'),
    ({"maintenance_write_probe_path": "/health"}, "maintenance_write_probe_path a path under /api/ (got /health)"),
    # The window writes the env file with app_env's rules: found there, after the lock and with the window half open.
    ({"app_env_min_secret_length": 200}, "SESSION_SECRET"),
    # The backup before the apply checked it inside the window.
    ({"apply": True, "backup_fetch": True}, "backup_fetch needs backup_fetch_dir"),
    # Renamed: the old name would be ignored without a word.
    ({"preflight_min_secret_length": 16}, "preflight_min_secret_length is now app_env_min_secret_length"),
], ids=["blue-green-without-edge", "timeout-not-a-number", "zero-task-timeout", "bad-restart-policy", "apply-typo",
        "project-for-no-task", "task-entry-typos", "args-as-a-string", "write-probe-outside-api", "env-rules",
        "backup-fetch-without-dir", "former-setting-name"])
def test_setting_that_cannot_work_is_refused_before_the_window(apps, setting, message):
    """Found later, it stopped the opening after the env files were rendered with the window on (the strategy,
    the drain timeout), or a task inside the open window (its timeout). Unchecked, a restart policy systemd
    ignores went into the unit, and apply=ture ran a dry-run in an open window."""
    before = {name: testbed.app_snapshot(host) for name, host in apps.items()}
    run = maintenance(maintenance_task="uploads_reorganize", **setting)
    assert run.rc != 0
    assert said(run, message)
    assert said(run, "Nothing was changed")
    assert "Take the run lock" not in run.output
    assert {name: testbed.app_snapshot(host) for name, host in apps.items()} == before
    for url in HOSTS.values():
        assert maintenance_mode(url) is False


def test_health_playbook_refuses_an_expectation_that_is_not_yes_or_no():
    """expect_maintenance=maybe was read as false: the check ran expecting a closed window, which nobody asked for."""
    run = testbed.run_playbook("playbooks/health.yml", extra_vars={"expect_maintenance": "maybe"})
    assert run.rc != 0
    assert said(run, 'expect_maintenance must be true or false (or yes/no, on/off, 1/0; got "maybe")')
    assert "Check health at" not in run.output
    run = testbed.run_playbook("playbooks/health.yml", extra_vars={"expect_maintenance": "no"})
    assert run.rc == 0, run.output


def test_a_window_is_not_opened_while_the_database_is_out_of_reach(apps, db):
    """Restarted into the window, the app would not come back without its database: the whole site down."""
    before = {name: testbed.app_snapshot(host) for name, host in apps.items()}
    assert db.run("systemctl stop postgresql@17-main").rc == 0
    try:
        run = maintenance(maintenance_state="open", maintenance_reason="database check")
    finally:
        assert db.run("systemctl start postgresql@17-main").rc == 0
    for url in HOSTS.values():
        assert testbed.wait_for(lambda url=url: testbed.http(f"{url}/api/health").status == 200, timeout=30)
    assert run.rc != 0
    assert said(run, f"cannot connect to PostgreSQL at 127.0.0.1:{DB_PORT}"), run.output[-3000:]
    assert "Open the window" not in run.output.split("cannot connect to PostgreSQL")[1]
    # Nothing opened, no lock left; the app hosts still serve with the window closed.
    assert {name: testbed.app_snapshot(host) for name, host in apps.items()} == before
    assert all(marker(host) is None for host in apps.values())
    for url in HOSTS.values():
        assert maintenance_mode(url) is False


@pytest.mark.parametrize("how", ["maintenance", "maintenance-pattern", "rollback"])
def test_a_window_limited_to_some_app_hosts_is_refused(apps, how):
    """With --limit (or a host pattern), the window opened (or the database was restored) on one host while the
    other kept accepting writes to the same database."""
    before = {name: testbed.app_snapshot(host) for name, host in apps.items()}
    if how == "maintenance":
        run = maintenance("--limit", "nekomorto-mt-app1", maintenance_state="open")
    elif how == "maintenance-pattern":
        run = maintenance(maintenance_state="open", maintenance_hosts="nekomorto_app:!nekomorto-mt-app2")
    else:
        run = testbed.run_playbook("playbooks/rollback.yml", "--limit", "nekomorto-mt-app1")
    assert run.rc != 0
    assert said(run, "This run covers nekomorto-mt-app1 but not nekomorto-mt-app2 of the group nekomorto_app")
    assert said(run, "Nothing was changed")
    assert "Take the run lock" not in run.output
    assert {name: testbed.app_snapshot(host) for name, host in apps.items()} == before
    for url in HOSTS.values():
        assert maintenance_mode(url) is False


def test_a_partial_window_opens_when_asked_and_closes_alone(apps, app1, app2):
    run = maintenance("--limit", "nekomorto-mt-app1", maintenance_state="open", maintenance_allow_partial=True,
                      maintenance_reason="tests: app2 serves no traffic")
    assert run.rc == 0, run.output
    assert maintenance_mode(HOSTS["nekomorto-mt-app1"]) is True
    assert maintenance_mode(HOSTS["nekomorto-mt-app2"]) is False
    assert marker(app2) is None
    run = maintenance("--limit", "nekomorto-mt-app1", maintenance_state="closed")
    assert run.rc == 0, run.output
    assert marker(app1) is None
    for name, url in HOSTS.items():
        assert maintenance_mode(url) is False
        assert apps[name].file(f"{APP_ROOT}/shared/.env").sha256sum == DEPLOYED_ENV[name]
