"""v1 -> v2: the new migration is pending before, applied exactly once by the deploy, status clean after."""

from __future__ import annotations

import json

import testbed
from conftest import APP_ROOT, as_app_user, deploy, migration_rows, served_version

V2_MIGRATION = "20260201000000_project_featured"


def test_prisma_migrate_status_lists_the_pending_migration_before(app):
    # v2's source next to the live release's node_modules and .env: what an operator sees before deploying.
    prepared = app.run(
        "rm -rf /tmp/v2src && mkdir /tmp/v2src && chown nekomorto /tmp/v2src && "
        "runuser -u nekomorto -- sh -c 'git -C %s/repo.git archive v2 | tar -x -C /tmp/v2src' && "
        "ln -s %s/current/node_modules /tmp/v2src/node_modules && ln -s %s/shared/.env /tmp/v2src/.env",
        APP_ROOT, APP_ROOT, APP_ROOT,
    )
    assert prepared.rc == 0, prepared.stderr
    status = as_app_user(app, "npx --no prisma migrate status", cwd="/tmp/v2src")
    assert status.rc == 1
    assert "have not yet been applied" in status.stdout
    assert V2_MIGRATION in status.stdout


def test_check_mode_after_a_deploy_that_stopped_before_migrating_predicts_the_migration(app, db):
    # The build passes, the backup before migrating fails (no pg_dump where it is told to look): v2's
    # release folder is there, its migration still pending. --check must plan it, not trip over it.
    stopped = deploy("v2", backup_pg_bin_dir="/nonexistent")
    assert stopped.rc != 0
    assert "Backup | Stop, the backup failed" in stopped.output, stopped.output[-3000:]
    assert migration_rows(db, V2_MIGRATION) == []
    before = testbed.app_snapshot(app)
    run = deploy("v2", "--check")
    said = " ".join(run.output.split())
    assert run.rc == 0, run.output[-3000:]
    assert f"Would apply 1 pending migration(s): {V2_MIGRATION}" in said
    assert testbed.app_snapshot(app) == before
    assert served_version() == "v1"


def test_deploy_v2_applies_its_migration_once(app, db):
    assert migration_rows(db, V2_MIGRATION) == []
    run = deploy("v2")
    assert run.rc == 0, run.output[-3000:]
    assert migration_rows(db, V2_MIGRATION) == [[V2_MIGRATION, "t", "f"]]
    assert served_version() == "v2"
    assert app.file(f"{APP_ROOT}/current").linked_to.startswith(f"{APP_ROOT}/releases/v2-")
    assert app.file(f"{APP_ROOT}/previous").linked_to.startswith(f"{APP_ROOT}/releases/v1-")
    status = as_app_user(app, "npx --no prisma migrate status")
    assert status.rc == 0 and "up to date" in status.stdout
    last = json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])
    assert last["migrations_applied"] == [V2_MIGRATION]
    assert last["release_from"].startswith("v1-") and last["release_to"].startswith("v2-")


def test_the_v2_column_serves(app):
    answer = testbed.http("http://127.0.0.1:38080/api/projects")
    assert answer.status == 200


def test_a_second_deploy_of_v2_applies_nothing(db):
    run = deploy("v2")
    assert run.rc == 0, run.output[-3000:]
    assert run.recap()["nekomorto-app1"]["changed"] == 0
    assert migration_rows(db, V2_MIGRATION) == [[V2_MIGRATION, "t", "f"]]


def test_check_mode_predicts_the_stop_on_a_release_older_than_the_schema(app):
    # v1 is not built any more (its folder set aside): check mode plans it from the repository mirror,
    # and must predict what the deploy would do: stop, since v2's migration is applied and v1 lacks it.
    v1_release = app.run(f"readlink {APP_ROOT}/previous").stdout.strip()
    assert "/v1-" in v1_release
    app.run_expect([0], f"mv {v1_release} {v1_release}.aside")
    try:
        before = testbed.app_snapshot(app)
        run = deploy("v1", "--check")
        said = " ".join(run.output.split())
        assert run.rc != 0
        assert "Would build release v1-" in said, run.output[-3000:]
        assert (f"The deploy would stop here: the database has applied migration(s) {V2_MIGRATION} "
                "that release v1-") in said
        assert testbed.app_snapshot(app) == before
        assert served_version() == "v2"
    finally:
        app.run_expect([0], f"mv {v1_release}.aside {v1_release}")


EDITED = "20260101000000_init"


def test_a_migration_edited_after_it_was_applied_stops_the_deploy_before_the_build(app):
    """A commit that edits v1's applied init migration: check mode reads the commit's migrations from the
    mirror (the release is not built) and predicts the stop; the deploy stops once the commit is exported,
    before `npm ci` and the build, v2 serving. With the early check off, the same stop comes after the
    build, which stays built."""
    made = app.run(
        "rm -rf /tmp/edited && runuser -u nekomorto -- sh -ec '"
        "git clone -q %s/repo.git /tmp/edited && cd /tmp/edited && git checkout -q v2 && "
        "printf \"%%s\\n\" \"-- edited after it was applied\" >> prisma/migrations/%s/migration.sql && "
        "git -c user.name=t -c user.email=t@example.invalid commit -q -am edited && git tag v2-edited && "
        "git push -q %s/repo.git v2-edited'", APP_ROOT, EDITED, APP_ROOT,
    )
    assert made.rc == 0, made.stderr
    live = app.file(f"{APP_ROOT}/current").linked_to
    stop = f"The deploy stops here: Applied migration(s) {EDITED} differ from the release's migration.sql"
    try:
        before = testbed.app_snapshot(app)
        checked = deploy("v2-edited", "--check", app_repo="/tmp/edited")
        said = " ".join(checked.output.split())
        assert checked.rc != 0
        assert "Would build release v2-edited-" in said, checked.output[-3000:]
        assert f"The deploy would stop here: Applied migration(s) {EDITED} differ from the release's migration.sql" in said
        assert "The live release, current and the database would stay as they are; release v2-edited-" in said
        assert "would not be built." in said
        assert testbed.app_snapshot(app) == before

        run = deploy("v2-edited", app_repo="/tmp/edited")
        said = " ".join(run.output.split())
        assert run.rc != 0
        assert stop in said, run.output[-3000:]
        assert "The live release, current and the database were not changed; release v2-edited-" in said
        assert "was not built (marked failed" in said and "Nothing was changed" not in said
        refused = app.run(f"cat {APP_ROOT}/releases/v2-edited-*/.nekomorto-release.json").stdout
        assert '"status": "failed"' in refused, refused
        # Stopped before `npm ci`: the exported source has no node_modules.
        assert app.run(f"ls -d {APP_ROOT}/releases/v2-edited-*/node_modules").rc != 0
        assert served_version() == "v2"
        assert app.file(f"{APP_ROOT}/current").linked_to == live
        assert not app.file(f"{APP_ROOT}/state/lock").exists

        late = deploy("v2-edited", app_repo="/tmp/edited", release_check_migrations=False)
        said = " ".join(late.output.split())
        assert late.rc != 0
        assert stop in said, late.output[-3000:]
        # What the stop leaves, said as it is: the release it built stays, nothing else changed.
        assert "The live release, current and the database were not changed; release v2-edited-" in said
        assert "stays built, not live" in said and "Nothing was changed" not in said
        built = app.run(f"cat {APP_ROOT}/releases/v2-edited-*/.nekomorto-release.json").stdout
        assert '"status": "built"' in built, built
        assert served_version() == "v2"
        assert app.file(f"{APP_ROOT}/current").linked_to == live
        assert not app.file(f"{APP_ROOT}/state/lock").exists
    finally:
        # The refused release stays built (its build is sound); removed here so that the pruning test
        # later in the scenario sees only the releases the scenario's versions made.
        app.run(f"rm -rf /tmp/edited {APP_ROOT}/releases/v2-edited-*; "
                f"runuser -u nekomorto -- git -C {APP_ROOT}/repo.git tag -d v2-edited")
