"""Roll back to the backup taken on v1: data, uploads, migrations and code as they were, window closed."""

from __future__ import annotations

import pytest

from conftest import (
    APP_ROOT,
    APP_URL,
    BACKUP_ROOT,
    applied_migrations,
    assert_no_secret,
    backup_ids,
    health,
    journal,
    manifest,
    recall,
    rollback,
    served_version,
    table_checksums,
    tables,
    uploads_listing,
)

import testbed


@pytest.fixture(scope="module")
def rolled_back(app):
    state = recall()
    before = backup_ids(app)
    run = rollback("-vvv", backup_id=state["golden_id"], confirm_rollback=state["golden_id"])
    return run, sorted(set(backup_ids(app)) - set(before))


def test_rollback_succeeds_without_printing_a_secret(rolled_back):
    run, _new = rolled_back
    assert run.rc == 0, run.output[-4000:]
    assert_no_secret(run)
    assert "Rolled back to backup" in run.output


def test_every_table_is_as_in_the_backup(db, rolled_back):
    state = recall()
    assert sorted(tables(db)) == sorted(state["golden_tables"])
    assert table_checksums(db) == state["golden_tables"]


def test_uploads_are_as_in_the_backup(app, rolled_back):
    assert uploads_listing(app) == recall()["golden_uploads"]
    uploads = app.file(f"{APP_ROOT}/shared/public/uploads")
    assert uploads.is_directory and uploads.user == "nekomorto"
    leftovers = app.run(f"ls -1a {APP_ROOT}/shared/public").stdout.split()
    assert sorted(leftovers) == [".", "..", "uploads"]


def test_migrations_are_those_of_the_manifest(app, db, rolled_back):
    state = recall()
    assert applied_migrations(db) == manifest(app, state["golden_id"])["database"]["applied_migrations"]
    assert "20260201000000_project_featured" not in applied_migrations(db)


def test_v1_serves_again_healthy_with_the_window_closed(app, rolled_back):
    state = recall()
    assert served_version() == "v1"
    assert app.file(f"{APP_ROOT}/current").linked_to.endswith(manifest(app, state["golden_id"])["release"]["id"])
    assert app.file(f"{APP_ROOT}/previous").linked_to == state["v2_release"]
    answer = health()
    assert answer["status"] == "ok" and answer["maintenanceMode"] is False
    assert not app.file(f"{APP_ROOT}/state/maintenance.json").exists
    assert "MAINTENANCE_MODE=true" not in app.file(f"{APP_ROOT}/shared/.env").content_string
    write = testbed.http(f"{APP_URL}/api/posts", method="POST", body={"title": "depois do rollback"})
    assert write.status == 201


def test_safety_backup_holds_the_state_before_the_rollback(app, rolled_back):
    _run, new = rolled_back
    assert len(new) == 1
    safety = manifest(app, new[0])
    assert safety["reason"] == f"safety before rollback to {recall()['golden_id']}"
    assert safety["release"]["version"] == "v2"
    assert "20260201000000_project_featured" in safety["database"]["applied_migrations"]
    run = testbed.run_playbook("molecule/rollback/tests/backup_info.yml", extra_vars={"backup_id": new[0]})
    assert run.rc == 0, run.output[-1500:]


def test_rollback_is_journaled(app, rolled_back):
    _run, new = rolled_back
    entry = journal(app)[-1]
    assert entry["kind"] == "rollback" and entry["outcome"] == "success"
    assert entry["backup_id"] == recall()["golden_id"] and entry["safety_backup_id"] == new[0]
    assert entry["release_to"].startswith("v1-") and entry["release_from"].startswith("v2-")
    assert not app.file(f"{APP_ROOT}/state/lock").exists
    assert app.file(BACKUP_ROOT).mode == 0o700


def test_an_uploads_folder_removed_by_hand_is_restored(app, rolled_back):
    """The swap renamed the live folder first: with none there, the rollback failed after the database was
    restored, leaving the window open; then the safety backup, which could not archive a missing folder,
    stopped it inside the window. The safety backup now holds the database alone, and says so."""
    golden = recall()["golden_id"]
    assert app.run(f"rm -rf {APP_ROOT}/shared/public/uploads").rc == 0
    before = backup_ids(app)
    run = rollback(backup_id=golden, confirm_rollback=golden)
    assert run.rc == 0, run.output[-4000:]
    assert uploads_listing(app) == recall()["golden_uploads"]
    assert "replaced uploads are kept" not in run.output
    leftovers = app.run(f"ls -1a {APP_ROOT}/shared/public").stdout.split()
    assert sorted(leftovers) == [".", "..", "uploads"]
    assert health()["maintenanceMode"] is False
    safety = sorted(set(backup_ids(app)) - set(before))
    assert len(safety) == 1
    assert manifest(app, safety[0])["uploads"] is None
    assert manifest(app, safety[0])["reason"] == f"safety before rollback to {golden}"
    assert f"NOT backed up (the folder {APP_ROOT}/shared/public/uploads does not exist)" in run.output
