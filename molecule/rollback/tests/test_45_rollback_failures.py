"""A rollback whose database restore fails ends in the state docs/backup.md gives for it.

Another session holds a SHARE lock on a table (reads go on, the restore's DROP waits):
- the restore gives up after restore_lock_timeout and rolls its transaction back: nothing was restored,
  the window is closed again, the app serves as before;
- the restore's connection is cut while it waits: its outcome is unknown to the rollback, which keeps
  the window open (writes refused) and says to check the database.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import (
    APP_ROOT,
    DB_PORT,
    health,
    journal,
    psql,
    recall,
    rollback,
    table_checksums,
    assert_no_secret,
)

import testbed

HOLDER = "nekomorto-test-lock-holder"


@pytest.fixture
def table_locked(db):
    """A session of its own holding a SHARE lock on _prisma_migrations for up to five minutes."""
    started = db.run(
        "nohup su postgres -c %s >/dev/null 2>&1 &",
        f"PGAPPNAME={HOLDER} psql -X -q -p {DB_PORT} -d nekomorto -c "
        "'BEGIN; LOCK TABLE public._prisma_migrations IN SHARE MODE; SELECT pg_sleep(300); COMMIT;'",
    )
    assert started.rc == 0, started.stderr
    assert testbed.wait_for(lambda: _sessions(db, f"application_name = '{HOLDER}' AND state = 'active'") == 1,
                            timeout=30), "the lock holder did not start"
    yield
    psql(db, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{HOLDER}'")


def _sessions(db, where: str) -> int:
    return int(psql(db, f"SELECT count(*) FROM pg_stat_activity WHERE {where}")[0][0])


def _said(output: str) -> str:
    return " ".join(output.split())


def test_a_restore_that_gives_up_on_a_lock_restores_nothing_and_closes_the_window(app, db, table_locked):
    golden = recall()["golden_id"]
    tables = table_checksums(db)
    entries = len(journal(app))
    run = rollback(backup_id=golden, confirm_rollback=golden, restore_lock_timeout=3)
    said = _said(run.output)
    assert run.rc != 0
    assert_no_secret(run)
    assert f"Rollback to backup {golden} failed at Restore | Replace the database's content" in said, run.output[-3000:]
    assert "failed and its transaction was rolled back" in said
    assert "Nothing was restored: the database and the uploads are as they were, and the window is closed again." in said
    assert table_checksums(db) == tables
    answer = health()
    assert answer["status"] == "ok" and answer["maintenanceMode"] is False
    assert not app.file(f"{APP_ROOT}/state/maintenance.json").exists
    assert journal(app)[-1]["outcome"] == "failed" and len(journal(app)) == entries + 1
    assert not app.file(f"{APP_ROOT}/state/lock").exists


def test_a_restore_cut_off_while_waiting_keeps_the_window_open_and_says_to_check(app, db, table_locked):
    golden = recall()["golden_id"]
    tables = table_checksums(db)
    started = testbed.start_playbook("playbooks/rollback.yml",
                                     extra_vars={"backup_id": golden, "confirm_rollback": golden})
    try:
        waiting = "application_name = 'nekomorto.ops.pg_restore' AND wait_event_type = 'Lock'"
        reached = testbed.wait_for(lambda: _sessions(db, waiting) == 1, timeout=240, interval=0.5)
        if reached:
            psql(db, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {waiting}")
        output = started.communicate(timeout=300)[0]
    finally:
        if started.poll() is None:
            started.kill()
    try:
        assert reached, "the restore never waited on the lock"
        said = _said(output)
        assert started.returncode != 0
        assert "psql lost its connection while restoring (exit 2)" in said, output[-3000:]
        assert f"the restore of the database from {golden} did not report its outcome" in said
        assert "The maintenance window stays OPEN on nekomorto-rb-app1 (writes refused)." in said
        assert "Nothing was restored" not in said
        # It was cut off before its transaction could commit: the data is as it was, behind the window.
        assert table_checksums(db) == tables
        # The rescue starts the app again (in maintenance) without waiting for it.
        answer = testbed.wait_for(_health, timeout=60)
        assert answer and answer["maintenanceMode"] is True, answer
        first_safety = re.search(r"return to the state before the rollback with playbooks/rollback.yml -e backup_id=(\S+)", said)
        assert first_safety, said[-3000:]
        first_safety = first_safety.group(1)
        assert json.loads(app.file(f"{APP_ROOT}/state/rollback-undo.json").content_string)["safety_backup_id"] == first_safety

        # Run again while the lock is still held: this run restores nothing, and says that the data and the window are
        # as the first attempt left them, naming the first safety backup (not its own) to return to.
        stuck = rollback(backup_id=golden, confirm_rollback=golden, restore_lock_timeout=3)
        said = _said(stuck.output)
        assert stuck.rc != 0
        assert "Nothing was restored by this run: the database and the uploads are as an earlier attempt" in said, said[-3000:]
        assert "the window that attempt left stays OPEN on nekomorto-rb-app1" in said
        assert f"-e backup_id={first_safety} -e confirm_rollback={first_safety}" in said
        assert json.loads(app.file(f"{APP_ROOT}/state/rollback-undo.json").content_string)["safety_backup_id"] == first_safety
        answer = testbed.wait_for(_health, timeout=60)
        assert answer and answer["maintenanceMode"] is True, answer

        # Run again once the lock is gone: it takes a safety backup of the state the failed attempt left, and its
        # undo advice still names the first one, which holds the state before the rollback.
        psql(db, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{HOLDER}'")
        again = rollback(backup_id=golden, confirm_rollback=golden)
        said = _said(again.output)
        assert again.rc == 0, again.output[-3000:]
        second_safety = journal(app)[-1]["safety_backup_id"]
        assert second_safety and second_safety != first_safety
        assert (f"To undo: playbooks/rollback.yml -e backup_id={first_safety} -e confirm_rollback={first_safety} (the state before "
                f"the first attempt of this rollback, which failed; this run's safety backup {second_safety} holds") in said, said[-2000:]
        assert journal(app)[-1]["undo_backup_id"] == first_safety
        assert not app.file(f"{APP_ROOT}/state/rollback-undo.json").exists
        assert health()["maintenanceMode"] is False
    finally:
        answer = _health()
        if answer is None or answer["maintenanceMode"]:
            closed = testbed.run_playbook("playbooks/maintenance.yml", extra_vars={"maintenance_state": "closed"})
            assert closed.rc == 0, closed.output[-2000:]
    assert health()["maintenanceMode"] is False


def _health() -> dict | None:
    try:
        return health()
    except OSError:
        return None
