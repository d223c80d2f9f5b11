"""users:migrate-permissions-v2: the JSON plan as a readable summary, apply, a second apply changes nothing."""

from __future__ import annotations

from conftest import journal, rbac, said, sql, table_checksums

ROLES = "SELECT username, array_to_string(roles, ','), permissions_version FROM users ORDER BY id"


def test_mistyped_apply_is_refused_not_read_as_a_dry_run(app1, db):
    """apply=ture was read as false with only a warning: a dry-run ran where an apply was meant."""
    rows = table_checksums(db)
    runs = len(journal(app1))
    run = rbac(apply="ture", backup_taken=True)
    assert run.rc != 0
    assert said(run, 'Invalid settings: apply must be true or false (or yes/no, on/off, 1/0; got "ture"). Nothing was changed.')
    assert "Take the run lock" not in run.output
    assert table_checksums(db) == rows
    assert len(journal(app1)) == runs


def test_dry_run_shows_the_plan_and_changes_nothing(app1, db):
    rows = table_checksums(db)
    audit = sql(db, "SELECT count(*) FROM audit_log")
    run = rbac()
    assert run.rc == 0, run.output
    assert said(run, "users_migrate_permissions_v2 (dry-run): 5 of 5 user(s) would change; roles added 5, removed 1;")
    assert said(run, "editora: [contributor] -> [editor, uploader] +editor +uploader -contributor")
    assert said(run, "moderador: [] -> [moderator] +moderator; unmapped: legacy.flag")
    assert table_checksums(db) == rows
    assert sql(db, "SELECT count(*) FROM audit_log") == audit
    entry = [line for line in journal(app1) if line["kind"] == "ops_task"][-1]
    assert entry["task"] == "users_migrate_permissions_v2"
    assert entry["mode"] == "dry-run"


def test_apply_migrates_the_roles(db):
    run = rbac(apply=True, backup_taken=True)
    assert run.rc == 0, run.output
    assert said(run, "5 of 5 user(s) changed")
    assert said(run, "backup of the previous roles: backups/users-permissions-v2/users-")
    assert sql(db, ROLES) == [
        ["admin", "admin", "2"],
        ["editora", "editor,uploader", "2"],
        ["gerente", "project_manager", "2"],
        ["moderador", "moderator", "2"],
        ["leitor", "", "2"],
    ]
    assert sql(db, "SELECT count(*) FROM audit_log WHERE action = 'users.migrate_permissions_v2'") == [["1"]]


def test_second_apply_changes_nothing(db):
    roles = sql(db, ROLES)
    run = rbac(apply=True, backup_taken=True)
    assert run.rc == 0, run.output
    assert said(run, "0 of 5 user(s) changed")
    assert all(counters["changed"] == 0 for counters in run.recap().values()), run.output
    assert sql(db, ROLES) == roles
