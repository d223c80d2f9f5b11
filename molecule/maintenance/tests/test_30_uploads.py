"""The uploads operations, plan then apply, asserted on files and rows."""

from __future__ import annotations

import testbed
from conftest import (
    APP1_URL,
    BACKUP_ROLE,
    HOSTS,
    OPS_DIR,
    UPLOADS,
    as_app_user,
    journal,
    maintenance,
    maintenance_mode,
    marker,
    project_id,
    said,
    sql,
    table_checksums,
    uploads_files,
    uploads_tree,
)

LEGACY = ["aurora-cover.png", "arte-compartilhada.png", "avatar-admin.png", "post-capa-1.png",
          "legacy/boreal-cover.png", "legacy/post-capa-2.png"]
REORGANIZED = ["projects/aurora-cover.png", "projects/arte-compartilhada.png", "users/avatar-admin.png",
               "posts/post-capa-1.png", "projects/boreal-cover.png", "posts/post-capa-2.png"]


def test_reorganize_dry_run_changes_nothing(app1, app2, db):
    tree, rows = uploads_tree(app1), table_checksums(db)
    run = maintenance(maintenance_task="uploads_reorganize")
    assert run.rc == 0, run.output
    assert said(run, "uploads_reorganize (dry-run): Summary: 6 file(s) to relocate, 7 reference(s) to rewrite")
    assert uploads_tree(app1) == tree
    assert table_checksums(db) == rows
    saved = app1.run(f"ls {OPS_DIR}").stdout.split()
    assert len(saved) == 1 and saved[0].endswith("-uploads_reorganize-dry-run.log")
    content = app1.file(f"{OPS_DIR}/{saved[0]}").content_string
    assert "npm run --silent uploads:reorganize --" in content
    assert "Dry-run only" in content
    # Once, on the first app host.
    assert not app2.file(OPS_DIR).exists
    entry = [line for line in journal(app1) if line["kind"] == "ops_task"][-1]
    assert entry["task"] == "uploads_reorganize"
    assert entry["mode"] == "dry-run"
    assert entry["changed"] is False
    assert entry["output_file"] == f"{OPS_DIR}/{saved[0]}"


def test_apply_needs_a_verified_backup(apps, db):
    if BACKUP_ROLE:
        return  # the backup role takes one: see the apply below
    before = {name: testbed.app_snapshot(host) for name, host in apps.items()}
    rows = table_checksums(db)
    run = maintenance(maintenance_task="uploads_reorganize", apply=True)
    assert run.rc != 0
    assert said(run, "backup_taken=true")
    assert said(run, "Nothing was changed")
    assert {name: testbed.app_snapshot(host) for name, host in apps.items()} == before
    assert table_checksums(db) == rows


def test_reorganize_apply_moves_files_and_rewrites_references(app1, db):
    assert as_app_user(app1, "npm run --silent uploads:check-integrity").rc == 1
    if BACKUP_ROLE:
        # The backup before an apply that moves uploads must hold them: backup_uploads=false is refused first.
        refused = maintenance(maintenance_task="uploads_reorganize", apply=True, backup_uploads=False)
        assert refused.rc != 0
        assert said(refused, "backup_uploads is false, and uploads_reorganize moves or rewrites files")
        assert said(refused, "Nothing was changed")
        assert maintenance_mode(APP1_URL) is False
    run = maintenance(maintenance_task="uploads_reorganize", apply=True, **({} if BACKUP_ROLE else {"backup_taken": True}))
    assert run.rc == 0, run.output
    assert said(run, "uploads_reorganize (apply): Applied: 6 file(s) relocated")
    files = uploads_files(app1)
    assert not files & set(LEGACY)
    assert set(REORGANIZED) <= files
    assert sql(db, "SELECT cover_image FROM projects WHERE slug = 'projeto-boreal'") == [["/uploads/projects/boreal-cover.png"]]
    assert sql(db, "SELECT avatar_url FROM users WHERE username = 'admin'") == [["/uploads/users/avatar-admin.png"]]
    check = as_app_user(app1, "npm run --silent uploads:check-integrity")
    assert check.rc == 0, check.stdout
    assert said(run, "checked: npm run --silent uploads:check-integrity -- --mode=fast passed")
    entry = [line for line in journal(app1) if line["kind"] == "ops_task"][-1]
    assert entry["mode"] == "apply"
    assert entry["changed"] is True
    assert entry["backup"]
    if BACKUP_ROLE:
        assert app1.file(f"/var/backups/nekomorto/{entry['backup']}/uploads.tar").is_file
    for url in HOSTS.values():
        assert maintenance_mode(url) is False


def test_second_apply_isolate_and_inventory_in_one_window(app1, db):
    tree_before = uploads_tree(app1)
    run = maintenance(
        maintenance_tasks=["uploads_reorganize", "uploads_isolate_project_images", "uploads_generate_inventory"],
        apply=True, backup_taken=True,
    )
    assert run.rc == 0, run.output
    tasks = {line["task"]: line for line in journal(app1)[-4:] if line["kind"] == "ops_task"}
    # A second reorganize finds nothing to do and changes nothing.
    assert tasks["uploads_reorganize"]["summary"] == "Nothing to reorganize."
    assert tasks["uploads_reorganize"]["changed"] is False
    # Isolate: each project gets its own copy of the files it shared; the originals stay.
    files = uploads_files(app1)
    aurora, boreal, cometa = (project_id(db, slug) for slug in ("projeto-aurora", "projeto-boreal", "projeto-cometa"))
    copies = {f"projects/{aurora}/banner-comum.png", f"projects/{aurora}/arte-compartilhada.png",
              f"projects/{boreal}/banner-comum.png", f"projects/{boreal}/logo-equipe.png", f"projects/{cometa}/logo-equipe.png"}
    assert copies <= files
    assert {line.split(None, 1)[1].removeprefix("./") for line in tree_before} <= files
    assert sql(db, "SELECT count(*) FROM projects p, jsonb_array_elements_text(p.gallery) g WHERE g LIKE '/uploads/shared/%'") == [["0"]]
    # The inventory: one row per file, with its checksum.
    assert tasks["uploads_generate_inventory"]["mode"] == "apply"
    assert sql(db, "SELECT count(*) FROM uploads") == [[str(len(files))]]
    sha = app1.run(f"sha256sum {UPLOADS}/projects/boreal-cover.png").stdout.split()[0]
    assert sql(db, "SELECT sha256 FROM uploads WHERE url = '/uploads/projects/boreal-cover.png'") == [[sha]]


def test_generate_inventory_again_is_refused_without_force(apps, db):
    before = {name: testbed.app_snapshot(host) for name, host in apps.items()}
    rows = table_checksums(db)
    run = maintenance(maintenance_task="uploads_generate_inventory", apply=True, backup_taken=True)
    assert run.rc != 0
    assert said(run, "The uploads table already has")
    assert said(run, "force=true")
    assert said(run, "Nothing was changed")
    assert {name: testbed.app_snapshot(host) for name, host in apps.items()} == before
    assert table_checksums(db) == rows
    for name, host in apps.items():
        assert marker(host) is None
        assert maintenance_mode(HOSTS[name]) is False


def test_generate_inventory_with_force_runs_over_existing_rows(apps, db):
    """force=true lets the script run over a filled table: it inserts what is missing until the first file
    that has a row, then fails with its own message, keeping what it wrote (the contract's quirk)."""
    app1 = apps["nekomorto-mt-app1"]
    first = sorted(uploads_files(app1))[0]  # the script walks the files in sorted path order
    sql(db, f"DELETE FROM uploads WHERE path = '{first}'")
    rows = int(sql(db, "SELECT count(*) FROM uploads")[0][0])
    run = maintenance(maintenance_task="uploads_generate_inventory", apply=True, backup_taken=True, force=True,
                      maintenance_on_failure="reopen")
    assert run.rc != 0
    assert said(run, "Maintenance failed at the task uploads_generate_inventory step")
    assert said(run, "Unique constraint failed")
    assert said(run, "1 row(s) inserted before the failure were kept")
    assert said(run, "Rows inserted before the failure are kept (no transaction)")
    assert int(sql(db, "SELECT count(*) FROM uploads")[0][0]) == rows + 1
    sha = app1.run(f"sha256sum {UPLOADS}/{first}").stdout.split()[0]
    assert sql(db, f"SELECT sha256 FROM uploads WHERE path = '{first}'") == [[sha]]
    for name, url in HOSTS.items():
        assert maintenance_mode(url) is False
        assert marker(apps[name]) is None
    assert journal(app1)[-1]["outcome"] == "failed"


def test_a_reorganize_apply_whose_integrity_check_fails_keeps_the_window_open(apps, db):
    """The app's own deploy runs uploads:check-integrity before it starts: an apply that leaves a referenced
    file missing (or one still to reorganize) is not a success, and writes stay refused for the operator."""
    app1 = apps["nekomorto-mt-app1"]
    cover = sql(db, "SELECT cover_image FROM projects WHERE slug = 'projeto-cometa'")[0][0]
    sql(db, "UPDATE projects SET cover_image = '/uploads/projects/gone.png' WHERE slug = 'projeto-cometa'")
    try:
        run = maintenance(maintenance_task="uploads_reorganize", apply=True, backup_taken=True)
        assert run.rc != 0, run.output[-3000:]
        assert said(run, "npm run --silent uploads:reorganize -- --apply ran on nekomorto-mt-app1 (exit 0), but the "
                         "check after it, npm run --silent uploads:check-integrity -- --mode=fast, failed (exit 1)"), \
            run.output[-3000:]
        assert said(run, "ERROR missing file: /uploads/projects/gone.png")
        for name, host in apps.items():
            assert marker(host) is not None
            assert maintenance_mode(HOSTS[name]) is True
        entry = [line for line in journal(app1) if line["kind"] == "ops_task"][-1]
        assert (entry["task"], entry["mode"], entry["outcome"]) == ("uploads_reorganize", "apply", "failed")
        saved = app1.file(entry["output_file"]).content_string
        assert "# then npm run --silent uploads:check-integrity -- --mode=fast, exit 1" in saved
    finally:
        sql(db, f"UPDATE projects SET cover_image = {'NULL' if cover == '' else repr(cover)} WHERE slug = 'projeto-cometa'")
        closed = maintenance(maintenance_state="closed")
    assert closed.rc == 0, closed.output[-3000:]
    for name, host in apps.items():
        assert marker(host) is None
        assert maintenance_mode(HOSTS[name]) is False
