"""--check on a pending deploy reports what would change and changes nothing."""

from __future__ import annotations

import testbed
from conftest import APP_ROOT, DB_PASSWORD, DB_PORT, app_env, deploy, served_version


def test_check_mode_predicts_the_deploy_and_changes_nothing(app, db):
    before = testbed.app_snapshot(app)
    migrations_before = testbed.psql(db, "SELECT migration_name FROM _prisma_migrations ORDER BY 1", port=DB_PORT)
    run = deploy("v2", "--check", "--diff")
    assert run.rc == 0, run.output[-3000:]
    # The plan: a new release would be built and switched to.
    assert "Would build release v2-" in run.output
    assert "Would apply 1 pending migration(s): 20260201000000_project_featured" in run.output
    assert "Would switch current from v1-" in run.output
    assert run.recap()["nekomorto-app1"]["changed"] > 0
    # The last word says what a real run would leave, not that v2 serves.
    said = " ".join(run.output.split())
    assert "CHECK MODE, nothing was changed: nekomorto-app1 would serve v2-" in said, run.output[-3000:]
    assert "migrations to apply: 20260201000000_project_featured." in said
    assert "nekomorto-app1 serves v2-" not in said
    assert testbed.app_snapshot(app) == before
    assert testbed.psql(db, "SELECT migration_name FROM _prisma_migrations ORDER BY 1", port=DB_PORT) == migrations_before
    assert served_version() == "v1"


def test_check_mode_reads_the_database_app_env_names_not_the_env_files(app, db):
    # A DATABASE_URL moved to another (empty) database: check mode writes no env file, and must not plan
    # against the database the host's env file still names.
    testbed.psql(db, "DROP DATABASE IF EXISTS nekomorto_moved", database="postgres", port=DB_PORT)
    testbed.psql(db, "CREATE DATABASE nekomorto_moved OWNER nekomorto_app", database="postgres", port=DB_PORT)
    try:
        before = testbed.app_snapshot(app)
        moved = f"postgresql://nekomorto_app:{DB_PASSWORD}@127.0.0.1:{DB_PORT}/nekomorto_moved"
        run = deploy("v1", "--check", app_env=app_env(DATABASE_URL=moved))
        assert run.rc == 0, run.output[-3000:]
        said = " ".join(run.output.split())
        assert ("Would apply 3 pending migration(s): 20260101000000_init, 20260101000100_user_sessions, "
                "20260101000200_uploads_audit_log") in said, run.output[-3000:]
        assert testbed.app_snapshot(app) == before
        assert testbed.psql(db, "SELECT to_regclass('public._prisma_migrations') IS NULL", database="nekomorto_moved",
                            port=DB_PORT) == [["t"]]
    finally:
        testbed.psql(db, "DROP DATABASE IF EXISTS nekomorto_moved WITH (FORCE)", database="postgres", port=DB_PORT)


def test_check_mode_on_a_host_not_prepared_says_so_and_changes_nothing(app):
    # A second app on the same host (its own name, user, folder and unit): nothing of it exists yet.
    before = testbed.app_snapshot(app)
    # It also asks for a package apt does not know: check mode names it instead of failing in apt.
    run = deploy("v2", "--check", app_name="nekofresh", host_extra_packages=["nekomorto-no-such-package"])
    said = " ".join(run.output.split())
    assert run.rc != 0
    assert "CHECK MODE stops on nekomorto-app1: the host is not prepared for the app yet" in said, run.output[-3000:]
    assert "the packages nekomorto-no-such-package are not installed (a deploy installs them with apt)" in said
    assert "No package matching" not in run.output
    assert "the user nekofresh would be created" in said
    assert "Nothing was changed." in said
    # It stopped there: no release resolved, no lock taken, nothing created.
    assert "Resolve the version in the repository" not in run.output
    assert not app.user("nekofresh").exists
    assert not app.file("/srv/nekofresh").exists
    assert testbed.app_snapshot(app) == before
    assert served_version() == "v1"


def test_a_branch_whose_name_ends_like_the_tag_does_not_shadow_it(app):
    # git ls-remote matches the end of ref names: a branch hotfix/v1 (here on v2's commit) also answers to
    # v1. The live v1's tag wins, so --check finds it built.
    made = app.run(
        "cd /tmp && runuser -u nekomorto -- sh -ec %s",
        f"rm -rf /tmp/refs && git clone -q {APP_ROOT}/repo.git /tmp/refs && git -C /tmp/refs branch hotfix/v1 v2",
    )
    assert made.rc == 0, made.stderr
    live = app.file(f"{APP_ROOT}/current").linked_to
    run = deploy("v1", "--check", app_repo="/tmp/refs")
    assert run.rc == 0, run.output[-3000:]
    said = " ".join(run.output.split())
    assert f"Release {live.rsplit('/', 1)[-1]} is already built: nothing to build." in said, run.output[-3000:]
    assert "Would build release" not in said
