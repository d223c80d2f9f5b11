"""Rollbacks that must be refused before anything is touched: no confirmation, JSON, damaged backups."""

from __future__ import annotations

import pytest

from conftest import APP_ROOT, BACKUP_ROOT, JSON_REASON, UPLOADS, assert_no_secret, recall, rollback, whole_state

# Runs on the app host: copies the golden backup under a new id (its manifest renamed to match), then
# damages the copy the way `action` says, re-sealing the manifest when the damage must get past the
# manifest's checksums (so that the next line of defence, the per-file list, is the one tested).
# A dump damaged behind a re-sealed manifest (pg_restore's read-back) is tested at the module level:
# tests/integration/plugins/modules/test_backup_pg.py.
_DAMAGE = r"""
import hashlib, io, json, os, shutil, sys, tarfile
root, source, target, action = sys.argv[1:5]
src, dst = os.path.join(root, source), os.path.join(root, target)
shutil.copytree(src, dst)
path = os.path.join(dst, "manifest.json")
with open(path) as handle:
    manifest = json.load(handle)
manifest["id"] = target

def reseal(name):
    with open(os.path.join(dst, name), "rb") as handle:
        data = handle.read()
    manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

def truncate(name):
    full = os.path.join(dst, name)
    os.truncate(full, os.path.getsize(full) // 2)

if action == "truncate_dump":
    truncate("db.dump")
elif action == "flip_archive_bytes":
    full = os.path.join(dst, "uploads.tar")
    with open(full, "r+b") as handle:
        handle.seek(1024)
        chunk = handle.read(16)
        handle.seek(1024)
        handle.write(bytes(byte ^ 0xFF for byte in chunk))
elif action == "tamper_member_resealed":
    full = os.path.join(dst, "uploads.tar")
    with tarfile.open(full) as original:
        members = [(member, original.extractfile(member).read() if member.isreg() else None) for member in original]
    output = io.BytesIO()
    with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as rebuilt:
        changed = False
        for member, data in members:
            if data is not None and not changed and len(data) > 0:
                data = b"tampered" + data[8:]
                changed = True
            rebuilt.addfile(member, io.BytesIO(data) if data is not None else None)
    with open(full, "wb") as handle:
        handle.write(output.getvalue())
    reseal("uploads.tar")
elif action == "no_manifest":
    os.unlink(path)
    sys.exit(0)
elif action == "dated_in_future":
    manifest["created_at"] = target[:4] + "-" + target[4:6] + "-" + target[6:8] + "T00:00:00Z"
with open(path, "w") as handle:
    json.dump(manifest, handle)
"""

DAMAGED = {
    "truncate_dump": ("20200101T000001Z", "db.dump has"),
    "flip_archive_bytes": ("20200101T000003Z", "uploads.tar does not match its sha256 in the manifest"),
    "tamper_member_resealed": ("20200101T000004Z", "does not match its sha256 in the list"),
    "no_manifest": ("20200101T000005Z", "incomplete"),
}


@pytest.fixture(scope="module")
def damaged(app):
    golden = recall()["golden_id"]
    for action, (backup_id, _message) in DAMAGED.items():
        made = app.run("python3 -c %s %s %s %s %s", _DAMAGE, BACKUP_ROOT, golden, backup_id, action)
        assert made.rc == 0, made.stderr
    yield DAMAGED
    app.run(f"rm -rf {' '.join(f'{BACKUP_ROOT}/{backup_id}' for backup_id, _message in DAMAGED.values())}")


def test_without_confirmation_the_plan_is_shown_and_nothing_touched(app, db):
    golden = recall()["golden_id"]
    before = whole_state(app, db)
    run = rollback()
    assert run.rc != 0
    assert "Rollback plan: restore backup " + golden in run.output
    assert f"confirm_rollback={golden}" in run.output and "Nothing was touched" in run.output
    assert whole_state(app, db) == before


def test_check_mode_shows_the_plan_and_touches_nothing(app, db):
    golden = recall()["golden_id"]
    before = whole_state(app, db)
    run = rollback("--check", backup_id=golden)
    assert run.rc == 0, run.output[-2500:]
    assert "Rollback plan: restore backup " + golden in run.output
    assert whole_state(app, db) == before


@pytest.mark.parametrize("request_vars", [
    {"data_source": "json"},
    {"backup_id": "backup-20261129T031000Z", "confirm_rollback": "backup-20261129T031000Z"},
    {"backup_id": "/srv/nekomorto/shared/backups/backup-20261129T031000Z/datasets/posts.json"},
], ids=["json-data-source", "app-json-snapshot", "json-file"])
def test_rollback_to_json_is_refused_at_once(app, db, request_vars):
    before = whole_state(app, db)
    run = rollback(**request_vars)
    assert run.rc != 0
    assert JSON_REASON in run.output and "Nothing was touched" in run.output
    # Refused on the controller, before the lock: no play ran on the hosts.
    assert "Take the run lock" not in run.output
    assert whole_state(app, db) == before


@pytest.mark.parametrize(("setting", "message"), [
    ({"service_strategy": "blue_green"}, "blue_green needs an edge the collection manages"),
    ({"service_drain_timeout": "30s"}, "service_drain_timeout"),
    ({"health_request_timeout": 0}, "health_request_timeout must be at least 1"),
], ids=["blue-green-without-edge", "timeout-not-a-number", "zero-health-timeout"])
def test_setting_that_cannot_work_is_refused_before_the_lock(app, db, setting, message):
    """Found later, it stopped the rollback inside its window, or at the restart after the database was restored."""
    golden = recall()["golden_id"]
    before = whole_state(app, db)
    run = rollback(backup_id=golden, confirm_rollback=golden, **setting)
    assert run.rc != 0
    assert message in run.output
    assert "Nothing was changed" in run.output
    assert "Take the run lock" not in run.output
    assert whole_state(app, db) == before


def test_a_backup_dated_in_the_future_is_not_taken_for_the_latest(app, db):
    """Taken while the clock was ahead, it sorted before the real latest backup and was restored as the latest."""
    golden, future = recall()["golden_id"], "20990101T000000Z"
    made = app.run("python3 -c %s %s %s %s %s", _DAMAGE, BACKUP_ROOT, golden, future, "dated_in_future")
    assert made.rc == 0, made.stderr
    try:
        before = whole_state(app, db)
        run = rollback()
        said = " ".join(run.output.split())
        assert run.rc != 0
        assert f"are dated after this host's clock ({future})" in said, run.output[-2500:]
        assert "Name the backup to restore with backup_id=<id>" in said and "Nothing was touched" in said
        assert "Rollback plan" not in said
        assert whole_state(app, db) == before
        # Named, it is a backup like any other.
        run = rollback(backup_id=future)
        assert "Rollback plan: restore backup " + future in run.output, run.output[-2500:]
        assert whole_state(app, db) == before
    finally:
        app.run(f"rm -rf {BACKUP_ROOT}/{future}")


def test_an_uploads_folder_that_is_a_link_is_refused_before_anything(app, db):
    """The swap renames the live folder: it renamed the link away and moved the restored files onto this
    host's disk, where the link no longer pointed (a mount point cannot be renamed at all)."""
    golden = recall()["golden_id"]
    elsewhere = f"{APP_ROOT}/shared/uploads-elsewhere"
    assert app.run(f"mv -T {UPLOADS} {elsewhere} && ln -s {elsewhere} {UPLOADS}").rc == 0
    try:
        before = whole_state(app, db)
        run = rollback(backup_id=golden, confirm_rollback=golden)
        assert run.rc != 0
        assert f"The uploads folder {UPLOADS} is a symbolic link" in run.output, run.output[-2500:]
        assert "Nothing was touched" in run.output
        assert "Open the maintenance window" not in run.output
        assert whole_state(app, db) == before
        assert app.file(UPLOADS).is_symlink
    finally:
        app.run(f"rm -f {UPLOADS} && mv -T {elsewhere} {UPLOADS}")


@pytest.mark.parametrize("action", list(DAMAGED))
def test_damaged_backup_is_refused_with_nothing_changed(app, db, damaged, action):
    backup_id, message = damaged[action]
    before = whole_state(app, db)
    run = rollback(backup_id=backup_id, confirm_rollback=backup_id)
    assert run.rc != 0
    assert message in run.output, run.output[-2500:]
    assert "Nothing was touched" in run.output or "nothing was restored" in run.output
    assert_no_secret(run)
    after = whole_state(app, db)
    assert after == before
