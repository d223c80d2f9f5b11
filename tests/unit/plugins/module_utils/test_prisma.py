# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Prisma migration bookkeeping: checksums, the migrations folder, and the comparison."""

from __future__ import annotations

import datetime
import subprocess
import typing as t
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._prisma import (
    LocalMigration,
    MigrationRecord,
    MigrationsDirError,
    compare_migrations,
    migration_checksum,
    read_archived_migrations,
    read_local_migrations,
    resolve_hints,
    script_matches_checksum,
    summarize,
)

# Scripts and the checksums the Prisma 7.8.0 CLI stored for them in _prisma_migrations
# (`prisma migrate deploy`, schema engine 7.8.0): UTF-8 text, CRLF line endings, a byte-order mark.
PRISMA_RECORDED = [
    (
        '-- CreateTable ção ☕\nCREATE TABLE "User" (\n    "id" SERIAL NOT NULL,\n    "name" TEXT NOT NULL,\n'
        '    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n);\n',
        "4155e17245f0488b811d7dd8c1e9252f5bb9377b455c71edf76dd1863f5f7cd8",
    ),
    ('-- crlf\r\nCREATE TABLE "Crlf" ("id" INT);\r\n', "0cd5b41ce6e39f13070c11fae40e19ae72bb4ce755d09ad1c1d7b7612d449df1"),
    ('\ufeff-- bom\nCREATE TABLE "Bom" ("id" INT);\n', "d9e97012b3a877425c434eeacbdc7964b640c208c378f947b7b8359e6d22f19a"),
]


@pytest.mark.parametrize(("script", "checksum"), PRISMA_RECORDED)
def test_checksum_is_what_prisma_stores(script: str, checksum: str) -> None:
    assert migration_checksum(script) == checksum
    assert script_matches_checksum(script, checksum)


@pytest.mark.parametrize(
    ("script", "recorded_for", "matches"),
    [
        ("a\nb\n", "a\nb\n", True),
        ("a\r\nb\r\n", "a\nb\n", True),  # checked out with CRLF after being applied with LF
        ("a\nb\n", "a\r\nb\r\n", True),  # the other way round
        ("a\nb\n", "a\nb", False),
        ("a\nb\n", "a\nc\n", False),
        ("abc", "abcd", False),
    ],
)
def test_checksum_match_ignores_line_endings_only(script: str, recorded_for: str, matches: bool) -> None:
    assert script_matches_checksum(script, migration_checksum(recorded_for)) is matches


def test_checksums_written_without_zero_padding_still_match() -> None:
    # Old Prisma versions wrote each byte of the digest without its leading zero.
    script = "hello"
    assert migration_checksum(script) == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    unpadded = "2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b9824"
    assert script_matches_checksum(script, unpadded)
    assert not script_matches_checksum("hellO", unpadded)
    assert not script_matches_checksum(script, "")


def test_read_local_migrations(tmp_path: Path) -> None:
    (tmp_path / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for name, content in (("20260102000000_b", b"B;\r\n"), ("20260101000000_a", b"A;\n"), ("20260103000000_bad", b"\xffX")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "migration.sql").write_bytes(content)
    (tmp_path / "20260104000000_no_script").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "migration.sql").write_text("x")
    migrations = read_local_migrations(str(tmp_path))
    assert [migration.name for migration in migrations] == ["20260101000000_a", "20260102000000_b", "20260103000000_bad"]
    assert migrations[1].script == "B;\r\n"
    assert migrations[2].script == "\ufffdX"  # the CLI reads UTF-8 text; invalid bytes become U+FFFD


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.invalid", "HOME": str(repo)}).stdout


def test_archived_migrations_read_as_the_checked_out_folder(tmp_path: Path) -> None:
    """`git archive` of a commit gives the same migrations, scripts byte for byte, as the folder itself."""
    repo = tmp_path / "repo"
    migrations = repo / "app" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for name, content in (("20260102000000_b", b"B;\r\n"), ("20260101000000_a", b"A;\n"), ("20260103000000_bad", b"\xffX")):
        (migrations / name).mkdir()
        (migrations / name / "migration.sql").write_bytes(content)
    (migrations / "20260104000000_no_script").mkdir()
    (migrations / "20260104000000_no_script" / "README").write_text("no script here\n")
    (migrations / "20260105000000_a" / "nested").mkdir(parents=True)
    (migrations / "20260105000000_a" / "nested" / "migration.sql").write_text("not a migration of its own\n")
    (repo / "other").mkdir()
    (repo / "other" / "migration.sql").write_text("outside the folder\n")
    _git(repo, "init", "-q")
    _git(repo, "-c", "core.autocrlf=false", "add", "-A")
    _git(repo, "commit", "-q", "-m", "migrations")
    archive = _git(repo, "archive", "--format=tar", "HEAD", "--", "app/migrations")
    assert read_archived_migrations(archive, "app/migrations/") == read_local_migrations(str(migrations))
    assert [m.name for m in read_archived_migrations(archive, "app/migrations")] == [
        "20260101000000_a", "20260102000000_b", "20260103000000_bad"]
    assert read_archived_migrations(archive, "prisma/migrations") == []


def test_a_damaged_archive_is_refused() -> None:
    with pytest.raises(MigrationsDirError, match="cannot read the archive of prisma/migrations"):
        read_archived_migrations(b"not a tar archive" * 40, "prisma/migrations")


def test_read_local_migrations_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationsDirError, match="is not a directory"):
        read_local_migrations(str(tmp_path / "nope"))


T0 = datetime.datetime(2026, 5, 19, 10, 0, tzinfo=datetime.timezone.utc)


def _at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def _local(*names: str) -> list[LocalMigration]:
    return [LocalMigration(name=name, script=f"-- {name}\n") for name in names]


def _done(name: str, minute: int, script: str | None = None) -> MigrationRecord:
    return MigrationRecord(name, migration_checksum(script or f"-- {name}\n"), _at(minute), _at(minute), None, None, 1)


def _failed(name: str, minute: int, logs: str = "ERROR: relation already exists") -> MigrationRecord:
    return MigrationRecord(name, migration_checksum(f"-- {name}\n"), _at(minute), None, None, logs, 0)


def _rolled_back(record: MigrationRecord, minute: int) -> MigrationRecord:
    record.rolled_back_at = _at(minute)
    return record


CASES: dict[str, tuple[list[LocalMigration], list[MigrationRecord] | None, dict[str, t.Any]]] = {
    "up to date": (
        _local("1_a", "2_b"),
        [_done("1_a", 0), _done("2_b", 1)],
        {"applied": ["1_a", "2_b"], "pending": []},
    ),
    "pending": (
        _local("1_a", "2_b", "3_c"),
        [_done("1_a", 0)],
        {"applied": ["1_a"], "pending": ["2_b", "3_c"]},
    ),
    "no table: not managed by Prisma yet": (
        _local("1_a", "2_b"),
        None,
        {"table_exists": False, "pending": ["1_a", "2_b"]},
    ),
    "empty table": (
        _local("1_a"),
        [],
        {"table_exists": True, "pending": ["1_a"]},
    ),
    "failed blocks and is not pending": (
        _local("1_a", "2_b", "3_c"),
        [_done("1_a", 0), _failed("2_b", 1)],
        {"applied": ["1_a"], "pending": ["3_c"], "failed": ["2_b"]},
    ),
    "rolled back is pending again": (
        _local("1_a", "2_b"),
        [_done("1_a", 0), _rolled_back(_failed("2_b", 1), 2)],
        {"applied": ["1_a"], "pending": ["2_b"], "rolled_back": ["2_b"]},
    ),
    "rolled back then re-applied with a fixed script": (
        [LocalMigration("1_a", "-- 1_a\n"), LocalMigration("2_b", "-- fixed\n")],
        [_done("1_a", 0), _rolled_back(_failed("2_b", 1), 2), _done("2_b", 3, script="-- fixed\n")],
        {"applied": ["1_a", "2_b"], "pending": []},
    ),
    "resolved as applied by hand": (
        _local("1_a", "2_b"),
        [_done("1_a", 0), _rolled_back(_failed("2_b", 1), 2),
         MigrationRecord("2_b", migration_checksum("-- 2_b\n"), _at(2), _at(2), None, None, 0)],
        {"applied": ["1_a", "2_b"]},
    ),
    "modified checksum": (
        [LocalMigration("1_a", "-- 1_a edited\n"), LocalMigration("2_b", "-- 2_b\n")],
        [_done("1_a", 0), _done("2_b", 1)],
        {"applied": ["1_a", "2_b"], "modified": ["1_a"]},
    ),
    "line endings changed is not modified": (
        [LocalMigration("1_a", "-- 1_a\r\n")],
        [_done("1_a", 0)],
        {"applied": ["1_a"], "modified": []},
    ),
    "missing locally: diverged history": (
        _local("1_a", "3_c"),
        [_done("1_a", 0), _done("2_b", 1)],
        {"applied": ["1_a", "2_b"], "pending": ["3_c"], "missing_locally": ["2_b"]},
    ),
    "failed and missing locally": (
        _local("1_a"),
        [_done("1_a", 0), _failed("2_b", 1)],
        {"applied": ["1_a"], "failed": ["2_b"], "missing_locally": ["2_b"]},
    ),
    "rolled back and missing locally blocks nothing": (
        _local("1_a"),
        [_done("1_a", 0), _rolled_back(_failed("2_b", 1), 2)],
        {"applied": ["1_a"], "rolled_back": ["2_b"], "missing_locally": []},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_compare_migrations(case: str) -> None:
    local, records, expected = CASES[case]
    state = compare_migrations(local, records).as_dict()
    defaults = {"table_exists": True, "applied": [], "pending": [], "failed": [], "rolled_back": [], "modified": [], "missing_locally": []}
    expected = {**defaults, **expected}
    assert state["local"] == [migration.name for migration in local]
    assert [entry["name"] for entry in state["failed_migrations"]] == expected.pop("failed")
    for key, value in expected.items():
        assert state[key] == value, key


def test_failed_entries_carry_logs_and_start_time() -> None:
    state = compare_migrations(_local("1_a"), [_failed("1_a", 5, logs="ERROR: syntax error")])
    assert state.failed_migrations == [
        {"name": "1_a", "started_at": "2026-05-19T10:05:00+00:00", "applied_steps_count": 0, "logs": "ERROR: syntax error"}
    ]


@pytest.mark.parametrize(
    ("case", "summary"),
    [
        ("up to date", "Database schema is up to date: all 2 migrations applied."),
        ("pending", "2 of 3 migrations pending: 2_b, 3_c."),
        ("no table: not managed by Prisma yet",
         "No _prisma_migrations table in schema public: the database is not managed by Prisma yet; all 2 local migrations are pending."),
        ("failed blocks and is not pending",
         "Failed: 2_b (migrate deploy refuses to run, P3009, until it is resolved); 1 of 3 migrations pending: 3_c."),
        ("modified checksum", "Edited after being applied (checksum differs): 1_a."),
        ("missing locally: diverged history",
         "Applied in the database but missing from the migrations folder: 2_b (diverged history); 1 of 2 migrations pending: 3_c."),
        ("line endings changed is not modified", "Database schema is up to date: all 1 migration applied."),
    ],
)
def test_summary(case: str, summary: str) -> None:
    local, records, _expected = CASES[case]
    assert summarize(compare_migrations(local, records), "public") == summary


def test_summary_shortens_long_lists() -> None:
    names = [f"{index}_m" for index in range(8)]
    assert summarize(compare_migrations(_local(*names), []), "public") == (
        "8 of 8 migrations pending: 0_m, 1_m, 2_m, 3_m, 4_m and 3 more."
    )


def test_database_side_only_without_a_migrations_folder() -> None:
    records = [_done("1_a", 0), _failed("2_b", 1), _rolled_back(_failed("3_c", 2), 3)]
    state = compare_migrations(None, records)
    assert state.applied == ["1_a"]
    assert [entry["name"] for entry in state.failed_migrations] == ["2_b"]
    assert state.rolled_back == ["3_c"]
    assert (state.local, state.pending, state.modified, state.missing_locally) == ([], [], [], [])
    assert summarize(state, "public") == (
        "Failed: 2_b (migrate deploy refuses to run, P3009, until it is resolved); "
        "1 migration applied; pending ones unknown (no migrations folder given)."
    )
    assert summarize(compare_migrations(None, None), "app") == (
        "No _prisma_migrations table in schema app: the database is not managed by Prisma yet."
    )


def test_resolve_hints_give_both_choices_once_per_failed_migration() -> None:
    state = compare_migrations(_local("1_a", "2_b"), [_done("1_a", 0), _failed("2_b", 1), _failed("2_b", 2)])
    hints = resolve_hints(state)
    assert len(hints) == 2
    assert "npx prisma migrate resolve --rolled-back 2_b" in hints[0]
    assert "npx prisma migrate resolve --applied 2_b" in hints[1]
    assert all("\n" not in hint for hint in hints)
    assert resolve_hints(compare_migrations(_local("1_a"), [_done("1_a", 0)])) == []
