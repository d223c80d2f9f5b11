"""A task that fails inside the window: reopen, stay (the default), then a re-run after the fix."""

from __future__ import annotations

import json

import testbed
from conftest import APP1_URL, HOSTS, UPLOADS, journal, maintenance, maintenance_mode, marker, project_id, said, sql

# A "remote" image that the app answers with a 404: localizing it fails with the script's own message.
BROKEN_IMAGE = f"{APP1_URL}/uploads/nao-existe.png"


def localize_aurora(db, **extra_vars) -> testbed.PlaybookRun:
    return maintenance(maintenance_task="uploads_localize_project_images", project=project_id(db, "projeto-aurora"),
                       apply=True, backup_taken=True, **extra_vars)


def test_break_a_remote_image(db):
    sql(db, f"UPDATE projects SET gallery = gallery || '[\"{BROKEN_IMAGE}\"]'::jsonb WHERE slug = 'projeto-aurora'")


def test_reopen_policy_closes_the_window_again(apps, db):
    run = localize_aurora(db, maintenance_on_failure="reopen")
    assert run.rc != 0
    assert said(run, "Maintenance failed at the task uploads_localize_project_images#")
    assert said(run, "HTTP 404")
    assert said(run, "downloads remote images")
    assert said(run, "Reopened (writes accepted): nekomorto-mt-app1, nekomorto-mt-app2")
    for name, url in HOSTS.items():
        assert maintenance_mode(url) is False
        assert marker(apps[name]) is None
    # The image that could be downloaded was saved, and its reference rewritten.
    aurora = project_id(db, "projeto-aurora")
    assert apps["nekomorto-mt-app1"].file(f"{UPLOADS}/projects/{aurora}/aurora-1.png").exists
    gallery = json.loads(sql(db, "SELECT gallery FROM projects WHERE slug = 'projeto-aurora'")[0][0])
    assert f"/uploads/projects/{aurora}/aurora-1.png" in gallery
    assert BROKEN_IMAGE in gallery
    last = journal(apps["nekomorto-mt-app1"])[-1]
    assert last["outcome"] == "failed"
    assert last["window"] == "closed"


def test_default_policy_stays_in_maintenance_and_says_how_to_continue(apps, db):
    run = localize_aurora(db)
    assert run.rc != 0
    assert said(run, "HTTP 404")
    assert said(run, "the window stays OPEN on nekomorto-mt-app1, nekomorto-mt-app2")
    assert said(run, "TO CONTINUE: fix the cause, then run the same command again")
    assert said(run, "maintenance_state=closed")
    for name, url in HOSTS.items():
        assert maintenance_mode(url) is True
        assert testbed.http(f"{url}/api/posts", "POST", {"title": "refused"}).status == 503
        window = marker(apps[name])
        assert window["last_failure"]["step"].startswith("task uploads_localize_project_images#")
        assert "HTTP 404" in window["last_failure"]["message"]
        assert journal(apps[name])[-1]["window"] == "open"


def test_health_playbook_reports_the_failed_window():
    run = testbed.run_playbook("playbooks/health.yml")
    assert run.rc == 0, run.output
    assert said(run, "maintenance window is OPEN")


def test_rerun_after_the_fix_finishes_the_work_and_closes(apps, db):
    sql(db, f"UPDATE projects SET gallery = gallery - '{BROKEN_IMAGE}' WHERE slug = 'projeto-aurora'")
    opened = {name: marker(host)["opened_at"] for name, host in apps.items()}
    run = localize_aurora(db)
    assert run.rc == 0, run.output
    assert said(run, "A maintenance window is already OPEN")
    assert said(run, f"since {opened['nekomorto-mt-app1']}")
    assert said(run, "Nothing to localize.")
    for name, url in HOSTS.items():
        assert maintenance_mode(url) is False
        assert marker(apps[name]) is None
        assert testbed.http(f"{url}/api/posts").status == 200


def test_a_rerun_skips_what_the_window_applied_and_journals_it(apps, db):
    """The journal's skipped_as_done and the report's "Skipped" line were read after the close had cleared the
    markers: always empty."""
    app1 = apps["nekomorto-mt-app1"]
    two = "uploads_isolate_project_images,uploads_localize_project_images"
    test_break_a_remote_image(db)
    failed = maintenance(maintenance_task=two, project=project_id(db, "projeto-aurora"), apply=True, backup_taken=True)
    assert failed.rc != 0
    assert [done["key"] for done in marker(app1)["completed"]] == ["uploads_isolate_project_images"]
    sql(db, f"UPDATE projects SET gallery = gallery - '{BROKEN_IMAGE}' WHERE slug = 'projeto-aurora'")
    run = maintenance(maintenance_task=two, project=project_id(db, "projeto-aurora"), apply=True, backup_taken=True)
    assert run.rc == 0, run.output
    assert said(run, "Skipped, already applied in this window: uploads_isolate_project_images")
    last = journal(app1)[-1]
    assert last["outcome"] == "success" and last["window"] == "closed"
    assert last["skipped_as_done"] == ["uploads_isolate_project_images"]
    assert [task["key"] for task in last["tasks"]] == [f"uploads_localize_project_images#{project_id(db, 'projeto-aurora')}"]
    assert all(marker(host) is None for host in apps.values())


def test_a_close_that_fails_on_one_host_says_to_close_again_not_to_rerun(apps):
    """The host the tasks ran on closed and dropped its marker: running the tasks again would apply them twice."""
    app1, app2 = apps["nekomorto-mt-app1"], apps["nekomorto-mt-app2"]
    opened = maintenance(maintenance_state="open", maintenance_reason="a close that fails")
    assert opened.rc == 0, opened.output
    entry = "/srv/nekomorto/current/server/index.js"
    mode = app2.run(f"stat -L -c %a {entry}").stdout.strip()
    # app2 cannot come back: the app user can no longer read the app's entry point.
    app2.run_expect([0], f"chmod 000 {entry}")
    try:
        run = maintenance(maintenance_state="closed", maintenance_health_timeout=8)
        assert run.rc != 0
        assert said(run, "Maintenance failed at the close step on nekomorto-mt-app2"), run.output[-3000:]
        assert said(run, "TO CONTINUE: fix the cause, then close the window with "
                         "playbooks/maintenance.yml -e maintenance_state=closed (do not run the tasks again")
        assert not said(run, "run the same command again")
        assert said(run, "NOW: the window is not closed on nekomorto-mt-app2: the env file says MAINTENANCE_MODE=false")
        assert maintenance_mode(HOSTS["nekomorto-mt-app1"]) is False and marker(app1) is None
        assert marker(app2) is not None
    finally:
        app2.run_expect([0], f"chmod {mode} {entry}")
    closed = maintenance(maintenance_state="closed")
    assert closed.rc == 0, closed.output
    for name, url in HOSTS.items():
        assert maintenance_mode(url) is False
        assert marker(apps[name]) is None
