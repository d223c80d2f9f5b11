"""The migration that creates the session table failed and was resolved as rolled back: the table is missing
while the migration waits to be applied again. The preflight does not refuse that deploy (it is the way out):
it leaves the table to the deploy's migrations and checks it after them, before the switch."""

from __future__ import annotations

import testbed
from conftest import DB_PORT, deploy, migration_rows, served_version

SESSIONS = "20260101000100_user_sessions"


def test_a_rolled_back_sessions_migration_is_applied_again_then_the_table_checked(app, db):
    live = served_version()
    # As `prisma migrate resolve --rolled-back` leaves a migration that failed before creating its table.
    testbed.psql(db, f"UPDATE _prisma_migrations SET finished_at = NULL, rolled_back_at = now() "
                     f"WHERE migration_name = '{SESSIONS}'", port=DB_PORT)
    testbed.psql(db, "DROP TABLE user_sessions", port=DB_PORT)
    run = deploy(live)
    assert run.rc == 0, run.output[-3000:]
    assert "TASK [nekomorto.ops.preflight : Preflight | Read the database after the migrations]" in run.output
    assert testbed.psql(db, "SELECT to_regclass('public.user_sessions') IS NOT NULL", port=DB_PORT) == [["t"]]
    assert migration_rows(db, SESSIONS) == [[SESSIONS, "f", "t"], [SESSIONS, "t", "f"]]
    assert served_version() == live

    # With the table there, nothing is left to the migrations: the check after them does not run.
    again = deploy(live)
    assert again.rc == 0, again.output[-3000:]
    assert "Read the database after the migrations" not in again.output
