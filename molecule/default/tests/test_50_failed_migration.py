"""A migration failing half-way: the deploy stops, the live release serves, nothing partial is left;
after the operator's `resolve`, the next good version deploys."""

from __future__ import annotations

import json

import pytest

import testbed
from conftest import APP_ROOT, DB_PORT, deploy, migration_rows, served_version

BAD = "20260301000000_project_tags"
FIXED = "20260305000000_add_project_tags"


def test_failing_migration_stops_the_deploy_with_the_resolve_choices(app, db):
    live_before = app.file(f"{APP_ROOT}/current").linked_to
    run = deploy("v3-bad-migration")
    assert run.rc != 0
    assert BAD in run.output
    assert "--rolled-back" in run.output and "--applied" in run.output
    assert "NOT switched" in run.output
    assert app.file(f"{APP_ROOT}/current").linked_to == live_before
    assert served_version() == "v2"
    # Atomic: the failed migration's table is not half-created.
    assert testbed.psql(db, "SELECT to_regclass('public.project_tags') IS NULL", port=DB_PORT) == [["t"]]
    assert migration_rows(db, BAD) == [[BAD, "f", "f"]]
    assert not app.file(f"{APP_ROOT}/state/lock").exists
    # The journal names what the operator needs: the release, what applied (nothing), the backup to restore.
    last = journal(app)[-1]
    assert last["outcome"] == "failed" and last["version"] == "v3-bad-migration", last
    assert last["release_to"].startswith("v3-bad-migration-") and len(last["commit"]) == 40
    assert last["migrations_applied"] == []
    assert app.file(f"/var/backups/nekomorto/{last['backup_before_migrating']}/manifest.json").is_file


def test_the_next_deploy_is_refused_in_preflight_until_resolved(app):
    before = testbed.app_snapshot(app)
    run = deploy("v3")
    assert run.rc != 0
    assert "Preflight" in run.output and BAD in run.output
    assert "P3009" in run.output
    assert testbed.app_snapshot(app) == before


def resolve(*args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/migrate_resolve.yml", *args, extra_vars=extra_vars)


def journal(app) -> list[dict]:
    return [json.loads(line) for line in app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()]


@pytest.mark.parametrize(("request_vars", "said"), [
    ({"migration": BAD}, "resolve is missing."),
    ({"migration": BAD, "resolve": "rolledback"}, 'resolve must be rolled-back or applied (got "rolledback").'),
    ({"migration": "../" + BAD, "resolve": "applied"}, f'migration is not a migration name (got "../{BAD}").'),
], ids=["no-decision", "decision-typo", "bad-name"])
def test_a_bad_resolve_request_is_refused_naming_the_playbook_variable(app, db, request_vars, said):
    """The role's own name for the decision (migrate_resolve_as) meant nothing to the operator who typed
    `-e resolve=...`: the refusal names the playbook's variables, before the lock."""
    runs = len(journal(app))
    run = resolve(**request_vars)
    output = " ".join(run.output.split())
    assert run.rc != 0
    assert said in output, run.output[-3000:]
    assert "Nothing was changed." in output
    # The role's argument check named its own option: "value of migrate_resolve_as must be one of: ...".
    assert "value of migrate_resolve_as" not in output
    assert migration_rows(db, BAD) == [[BAD, "f", "f"]]
    assert len(journal(app)) == runs
    assert not app.file(f"{APP_ROOT}/state/lock").exists


def test_check_mode_says_what_resolve_would_mark_and_changes_nothing(app, db):
    runs = len(journal(app))
    checked = resolve("--check", migration=BAD, resolve="rolled-back")
    said = " ".join(checked.output.split())
    assert checked.rc == 0, checked.output[-3000:]
    assert f"CHECK MODE, nothing was changed: {BAD} (failed, started" in said
    assert "would be marked rolled-back, from /srv/nekomorto/releases/v3-bad-migration-" in said
    assert "is now marked" not in said
    assert migration_rows(db, BAD) == [[BAD, "f", "f"]]
    assert len(journal(app)) == runs


@pytest.mark.parametrize(("migration", "state"), [
    ("20260101000000_init", "it is applied."),
    ("20260301000000_project_tag", "it is not in the database, so it cannot be resolved as applied."),
], ids=["applied-one", "typo"])
def test_a_migration_that_is_not_the_failed_one_is_refused(app, db, migration, state):
    """Prisma's own refusal (P3008) came as a raw npm error; naming an applied migration is most likely a
    wrong name while another one is failed."""
    run = resolve(migration=migration, resolve="applied")
    said = " ".join(run.output.split())
    assert run.rc != 0
    assert f"{migration} is not a failed migration: {state}" in said, run.output[-3000:]
    assert f"Failed migration(s) now: {BAD}: name that one (migration={BAD})." in said
    assert "Nothing was changed." in said
    assert "Resolve the migration as" not in run.output
    assert migration_rows(db, BAD) == [[BAD, "f", "f"]]
    last = journal(app)[-1]
    assert (last["kind"], last["outcome"]) == ("migrate_resolve", "failed")
    assert not app.file(f"{APP_ROOT}/state/lock").exists


def test_resolve_then_deploy_the_corrected_version(app, db):
    resolved = resolve(migration=BAD, resolve="rolled-back")
    assert resolved.rc == 0, resolved.output[-3000:]
    assert migration_rows(db, BAD) == [[BAD, "f", "t"]]
    last = journal(app)[-1]
    assert (last["kind"], last["outcome"], last["migration"], last["resolve"], last["resolved"]) == \
        ("migrate_resolve", "success", BAD, "rolled-back", True)
    # Prisma refuses a second resolve (P3008): the collection reads first and changes nothing.
    again = resolve(migration=BAD, resolve="rolled-back")
    assert again.rc == 0, again.output[-3000:]
    assert f"Nothing to resolve: {BAD} is already marked rolled-back." in " ".join(again.output.split())
    assert all(counters["changed"] == 0 for counters in again.recap().values()), again.output[-3000:]
    assert journal(app)[-1]["resolved"] is False
    assert migration_rows(db, BAD) == [[BAD, "f", "t"]]
    run = deploy("v3")
    assert run.rc == 0, run.output[-3000:]
    assert served_version() == "v3"
    assert migration_rows(db, FIXED) == [[FIXED, "t", "f"]]
    assert testbed.psql(db, "SELECT to_regclass('public.project_tags') IS NOT NULL", port=DB_PORT) == [["t"]]


def _releases(app) -> list[str]:
    return sorted(app.run(f"ls -1 {APP_ROOT}/releases").stdout.split())


def test_pruning_removes_failed_releases_and_keeps_current_and_previous(app):
    """The v3 deploy pruned the failed releases (v2-unhealthy, v3-bad-migration); with release_keep=1 a
    re-deploy removes the oldest built one, never the live one or the previous good one."""
    releases = _releases(app)
    assert [name.rsplit("-", 1)[0] for name in releases] == ["v1", "v2", "v3"], releases
    current = app.file(f"{APP_ROOT}/current").linked_to
    previous = app.file(f"{APP_ROOT}/previous").linked_to
    assert (current.rsplit("/", 1)[1].rsplit("-", 1)[0], previous.rsplit("/", 1)[1].rsplit("-", 1)[0]) == ("v3", "v2")
    run = deploy("v3", release_keep=1)
    assert run.rc == 0, run.output[-3000:]
    assert _releases(app) == [previous.rsplit("/", 1)[1], current.rsplit("/", 1)[1]]
    assert app.file(f"{APP_ROOT}/current").linked_to == current
    assert served_version() == "v3"
