"""A backup whose dump fails leaves no manifest and no folder, and every earlier backup as it was."""

from __future__ import annotations

import base64

import pytest

from conftest import (
    APP_ENV,
    APP_ROOT,
    DB_PORT,
    assert_no_secret,
    async_job_files,
    backup,
    backup_ids,
    backup_tree,
    health,
    journal,
    psql,
)

import testbed

FAKE_BIN = "/opt/fake-pg-bin"


def _failed_backup(app, *args, **extra_vars):
    before_ids, before_tree = backup_ids(app), backup_tree(app)
    run = backup(*args, **extra_vars)
    assert run.rc != 0
    assert "Its folder was removed" in run.output
    assert backup_ids(app) == before_ids
    assert backup_tree(app) == before_tree
    assert_no_secret(run)
    entry = journal(app)[-1]
    assert entry["kind"] == "backup" and entry["outcome"] == "failed"
    assert not app.file(f"{APP_ROOT}/state/lock").exists
    # The background uploads archive ended before the folder went and left no job file; once Ansible's
    # watchdog of the job is gone too (it looks every few seconds), nothing came back in the backups.
    assert async_job_files(app) == []
    assert app.run("for i in $(seq 1 40); do pgrep -f 'AnsiballZ_uploads_archiv[e]' || exit 0; sleep 0.5; done;"
                   " exit 1").rc == 0
    assert backup_tree(app) == before_tree
    return run


def test_wrong_password_fails_the_backup(app, db):
    changed = psql(db, "ALTER ROLE nekomorto_app PASSWORD 'rotated-elsewhere-91c2'")
    assert changed is not None
    try:
        run = _failed_backup(app)
        assert "password authentication failed" in run.output
    finally:
        psql(db, "ALTER ROLE nekomorto_app PASSWORD 'testbed-db-pw-7f3e9a41c2'")


def test_database_stopped_fails_the_backup(app, db):
    assert db.run("systemctl stop postgresql@17-main").rc == 0
    try:
        run = _failed_backup(app)
        assert "connection refused" in run.output
        assert f"127.0.0.1:{DB_PORT}" in run.output
    finally:
        assert db.run("systemctl start postgresql@17-main").rc == 0
    assert testbed.wait_for(lambda: health().get("status") == "ok", timeout=60)


def test_a_missing_uploads_folder_stops_the_backup_before_its_folder_is_made(app):
    """The uploads archive, started beside the dump, failed on the missing folder only after the whole dump."""
    uploads = f"{APP_ROOT}/shared/public/uploads"
    before_ids, before_tree = backup_ids(app), backup_tree(app)
    assert app.run(f"mv -T {uploads} {uploads}.away").rc == 0
    try:
        # --check tells the same: before, its plan passed and only the archive's own check refused.
        check = backup("--check")
        run = backup()
    finally:
        assert app.run(f"mv -T {uploads}.away {uploads}").rc == 0
    for each in (check, run):
        assert each.rc != 0
        assert f"The uploads folder {uploads} does not exist" in each.output
        assert "backup_uploads=false" in each.output
        assert "Dump the database" not in each.output
    assert backup_ids(app) == before_ids
    assert backup_tree(app) == before_tree
    entry = journal(app)[-1]
    assert entry["kind"] == "backup" and entry["outcome"] == "failed"
    assert f"The uploads folder {uploads} does not exist" in entry["error"]
    assert not app.file(f"{APP_ROOT}/state/lock").exists


def test_failing_app_script_fails_the_backup_and_its_output_is_masked(app):
    """npm run db:backup (backup_app_script) cannot write its folder: the backup fails with the script's
    last lines, a value declared secret masked in them."""
    backups = f"{APP_ROOT}/shared/backups"
    mode = app.file(backups).mode
    assert app.run(f"chmod 0500 {backups}").rc == 0
    try:
        run = _failed_backup(app, "-vvv", backup_app_script=True,
                             app_env={**APP_ENV, "SNAPSHOT_NOTE": "permission denied"},
                             app_env_secret_names=["SNAPSHOT_NOTE"])
    finally:
        app.run(f"chmod {mode:o} {backups}")
    assert "npm run db:backup exited with 1" in run.output
    assert "db:backup: FAILED: EACCES: ********" in run.output
    assert "permission denied" not in run.output


@pytest.fixture
def fake_pg_bin(app):
    """pg_dump/pg_restore stand-ins: version from PG_VERSION, and a dump that writes nothing."""
    script = (
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "$(basename "$0") (PostgreSQL) $(cat /opt/fake-pg-bin/version)"; exit 0; fi\n'
        'for arg; do case "$arg" in --file=*) : > "${arg#--file=}";; esac; done\n'
        "exit 0\n"
    )
    encoded = base64.b64encode(script.encode()).decode()
    made = app.run(
        f"set -e; mkdir -p {FAKE_BIN}; echo {encoded} | base64 -d > {FAKE_BIN}/pg_dump;"
        f" cp {FAKE_BIN}/pg_dump {FAKE_BIN}/pg_restore; chmod 0755 {FAKE_BIN}/pg_dump {FAKE_BIN}/pg_restore"
    )
    assert made.rc == 0, made.stderr
    yield FAKE_BIN
    app.run(f"rm -rf {FAKE_BIN}")


def test_pg_dump_older_than_the_server_is_refused_with_what_to_install(app, fake_pg_bin):
    app.run(f"echo 15.4 > {fake_pg_bin}/version")
    run = _failed_backup(app, backup_pg_bin_dir=fake_pg_bin)
    assert "pg_dump 15.4" in run.output and "older than the database server" in run.output
    assert "postgresql-client-17" in run.output


def test_empty_dump_is_refused(app, fake_pg_bin):
    app.run(f"echo 17.9 > {fake_pg_bin}/version")
    run = _failed_backup(app, backup_pg_bin_dir=fake_pg_bin)
    assert "wrote nothing" in run.output
