"""--check opens nothing, applies nothing, and reports what the apply would do."""

from __future__ import annotations

import testbed
from conftest import OPS_DIR, journal, maintenance, said, table_checksums


def test_check_mode_opens_nothing_and_plans_the_apply(apps, db):
    before = {name: (testbed.app_snapshot(host), len(journal(host))) for name, host in apps.items()}
    rows = table_checksums(db)
    run = maintenance(
        "--check",
        maintenance_tasks=["uploads_reorganize", "uploads_isolate_project_images", "uploads_generate_inventory"],
        apply=True,
        backup_taken=True,
    )
    assert run.rc == 0, run.output
    assert said(run, "CHECK MODE: nothing was opened")
    assert said(run, "uploads_reorganize (dry-run, what apply=true would do): Summary: 6 file(s) to relocate")
    assert said(run, "move     /uploads/legacy/boreal-cover.png -> /uploads/projects/boreal-cover.png")
    assert said(run, "uploads_generate_inventory (plan, what apply=true would do)")
    assert said(run, "has NO dry-run")
    after = {name: (testbed.app_snapshot(host), len(journal(host))) for name, host in apps.items()}
    assert after == before
    assert table_checksums(db) == rows
    for host in apps.values():
        assert not host.file(OPS_DIR).exists
