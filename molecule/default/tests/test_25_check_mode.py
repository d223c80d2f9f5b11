"""--check on a pending deploy reports what would change and changes nothing."""

from __future__ import annotations

import testbed
from conftest import DB_PORT, deploy, served_version


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
    assert testbed.app_snapshot(app) == before
    assert testbed.psql(db, "SELECT migration_name FROM _prisma_migrations ORDER BY 1", port=DB_PORT) == migrations_before
    assert served_version() == "v1"
