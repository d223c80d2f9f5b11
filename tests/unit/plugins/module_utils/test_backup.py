# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backup folders: the manifest, what makes a backup count, and the retention plan."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils import _backup as backup_utils
from ansible_collections.nekomorto.ops.plugins.module_utils._backup import (
    BACKUP_ID,
    STATUS_CORRUPT,
    STATUS_INCOMPLETE,
    STATUS_OK,
    BackupCheck,
    BackupError,
    backup_folders,
    build_manifest,
    check_backup,
    checksum_files,
    dated_in_future,
    list_files,
    manifest_problems,
    newest_first,
    plan_retention,
    serialize_manifest,
    sha256_file,
)

NOW = datetime.datetime(2026, 11, 29, 3, 10, tzinfo=datetime.timezone.utc)


def make_backup(root: Path, backup_id: str, created_at: str | None = None, files: dict[str, bytes] | None = None,
                manifest: bool = True) -> Path:
    folder = root / backup_id
    folder.mkdir(parents=True)
    for name, data in (files or {"db.dump": b"PGDMP dump", "uploads.tar": b"tar", "uploads.sha256": b""}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    if manifest:
        content = {"created_at": created_at or f"{backup_id[:4]}-{backup_id[4:6]}-{backup_id[6:8]}T{backup_id[9:11]}:"
                                               f"{backup_id[11:13]}:{backup_id[13:15]}Z",
                   "reason": "test", "release": {"id": "v1-abc", "version": "v1"}}
        built = build_manifest(backup_id, content, checksum_files(str(folder), list_files(str(folder))))
        (folder / "manifest.json").write_bytes(serialize_manifest(built))
    return folder


@pytest.mark.parametrize(
    ("name", "valid"),
    [("20261129T031000Z", True), ("20261129T031000Z-2", True), ("20261129T031000", False),
     ("backup-20261129T031000Z", False), ("20261129T031000Z-", False), ("../20261129T031000Z", False)],
)
def test_backup_id_pattern(name: str, valid: bool) -> None:
    assert bool(BACKUP_ID.match(name)) == valid


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert sha256_file(str(path)) == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3)


def test_list_files_is_sorted_relative_and_skips_the_manifest(tmp_path: Path) -> None:
    folder = make_backup(tmp_path, "20261129T031000Z", files={"db.dir/toc.dat": b"t", "db.dir/3001.dat.gz": b"d", "a": b""})
    assert list_files(str(folder)) == ["a", "db.dir/3001.dat.gz", "db.dir/toc.dat"]


def test_list_files_refuses_links(tmp_path: Path) -> None:
    folder = make_backup(tmp_path, "20261129T031000Z", manifest=False)
    os.symlink("/etc/passwd", folder / "link")
    with pytest.raises(BackupError, match="link .* is not a regular file"):
        list_files(str(folder))


def test_build_manifest_order_and_reserved_keys() -> None:
    manifest = build_manifest("20261129T031000Z", {"created_at": "2026-11-29T03:10:00Z"}, {"a": {"size": 0, "sha256": "0" * 64}})
    assert list(manifest) == ["format", "format_version", "id", "created_at", "files"]
    with pytest.raises(BackupError, match="must not set files, id"):
        build_manifest("20261129T031000Z", {"id": "x", "files": {}}, {})


def test_manifest_problems() -> None:
    good = build_manifest("20261129T031000Z", {"created_at": "2026-11-29T03:10:00Z"}, {"a": {"size": 1, "sha256": "a" * 64}})
    assert manifest_problems(good, "20261129T031000Z") == []
    bad = dict(good, format_version=9, created_at="yesterday", files={"../x": {"size": 1, "sha256": "a" * 64}, "b": {"size": "1"}})
    problems = manifest_problems(bad, "20261129T031001Z")
    assert any("format_version 9" in problem for problem in problems)
    assert any("names backup '20261129T031000Z'" in problem for problem in problems)
    assert any("outside the backup: ../x" in problem for problem in problems)
    assert any("no valid size and sha256 for b" in problem for problem in problems)
    assert any("no valid created_at" in problem for problem in problems)


def test_a_sealed_backup_counts(tmp_path: Path) -> None:
    folder = make_backup(tmp_path, "20261129T031000Z")
    check = check_backup(str(folder), checksums=True)
    assert check.status == STATUS_OK and check.checksums_verified and check.problems == []
    assert check.summary()["version"] == "v1" and check.size_bytes == len(b"PGDMP dump") + 3


def test_without_manifest_a_backup_is_incomplete(tmp_path: Path) -> None:
    check = check_backup(str(make_backup(tmp_path, "20261129T031000Z", manifest=False)), checksums=True)
    assert check.status == STATUS_INCOMPLETE and "did not finish" in check.problems[0]


@pytest.mark.parametrize(
    ("damage", "problem", "found_without_checksums"),
    [
        (lambda folder: (folder / "db.dump").write_bytes(b"PGDMP"), "db.dump has 5 bytes, the manifest says 10", True),
        (lambda folder: (folder / "db.dump").write_bytes(b"PGDMP DUMP"), "db.dump does not match its sha256", False),
        (lambda folder: (folder / "uploads.tar").unlink(), "uploads.tar is missing", True),
        (lambda folder: (folder / "extra").write_bytes(b""), "extra is not listed in the manifest", True),
        (lambda folder: (folder / "manifest.json").write_text("{"), "manifest.json cannot be read", True),
        (lambda folder: (folder / "manifest.json").write_text("[]"), "manifest.json is not a JSON object", True),
    ],
    ids=["truncated", "modified", "missing", "added", "unreadable-manifest", "not-an-object"],
)
def test_a_damaged_backup_is_corrupt(tmp_path: Path, damage, problem: str, found_without_checksums: bool) -> None:
    folder = make_backup(tmp_path, "20261129T031000Z")
    damage(folder)
    check = check_backup(str(folder), checksums=True)
    assert check.status == STATUS_CORRUPT and any(problem in item for item in check.problems), check.problems
    assert (check_backup(str(folder), checksums=False).status == STATUS_CORRUPT) == found_without_checksums


def test_a_file_removed_while_it_is_checked_is_a_problem_not_a_crash(tmp_path: Path, monkeypatch) -> None:
    folder = make_backup(tmp_path, "20261129T031000Z")

    def removed(path, *args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", path)

    monkeypatch.setattr(backup_utils, "sha256_file", removed)
    check = check_backup(str(folder), checksums=True)
    assert check.status == STATUS_CORRUPT
    assert any("cannot be read (No such file or directory)" in problem for problem in check.problems), check.problems


def test_backup_folders_ignores_other_entries(tmp_path: Path) -> None:
    make_backup(tmp_path, "20261129T031000Z")
    (tmp_path / "README").write_text("x")
    (tmp_path / "backup-20261129T031000Z").mkdir()
    (tmp_path / ".partial").mkdir()
    folders, others = backup_folders(str(tmp_path))
    assert [os.path.basename(folder) for folder in folders] == ["20261129T031000Z"]
    assert others == ["README", "backup-20261129T031000Z"]
    assert backup_folders(str(tmp_path / "missing")) == ([], [])


def test_newest_first_uses_the_manifest_time() -> None:
    checks = [
        BackupCheck(id="20261129T031000Z", path="", status=STATUS_OK, created_at="2026-11-29T03:10:00Z"),
        BackupCheck(id="20261130T000000Z", path="", status=STATUS_INCOMPLETE),
        BackupCheck(id="20261101T000000Z", path="", status=STATUS_OK, created_at="2026-12-01T00:00:00Z"),
    ]
    assert [check.id for check in newest_first(checks)] == ["20261101T000000Z", "20261130T000000Z", "20261129T031000Z"]


def _ok(days_old: float) -> BackupCheck:
    moment = NOW - datetime.timedelta(days=days_old)
    return BackupCheck(id=moment.strftime("%Y%m%dT%H%M%SZ"), path="", status=STATUS_OK,
                       created_at=moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


@pytest.mark.parametrize(
    ("ages", "keep_last", "keep_days", "kept_ages"),
    [
        ([0, 1, 2, 3, 4], 2, 0, [0, 1]),
        ([0, 1, 2, 3, 4], 0, 2, [0, 1, 2]),
        ([0, 1, 2, 10, 20], 3, 5, [0, 1, 2]),
        ([0, 6, 7, 8], 2, 5, [0, 6]),
        ([3, 4], 0, 0, [3]),        # the newest verified backup always stays, however old
        ([10, 20], 0, 1, [10]),
        ([0, 1], 5, 0, [0, 1]),
        ([], 2, 2, []),
        ([0, 400, 36500], 1, 800_000, [0, 400, 36500]),  # days before year 1 meant "forever": no overflow
    ],
)
def test_plan_retention(ages: list[float], keep_last: int, keep_days: int, kept_ages: list[float]) -> None:
    checks = [_ok(age) for age in ages]
    plan = plan_retention(checks, keep_last, keep_days, NOW)
    kept = sorted(plan.keep)
    assert kept == sorted(_ok(age).id for age in kept_ages)
    assert sorted(plan.remove) == sorted(set(check.id for check in checks) - set(kept))


@pytest.mark.parametrize(
    ("ages", "keep_last", "keep_days", "kept_ages"),
    [
        ([1, 2, 3, 4], 2, 0, [1]),        # the new backup takes one of the last 2
        ([1, 2, 3], 1, 0, []),            # and is the newest verified backup: none of these stays for that
        ([1, 3], 0, 2, [1]),              # the days rule is the same
        ([1, 2], 3, 0, [1, 2]),
    ],
)
def test_plan_retention_with_a_new_backup_coming(ages: list[float], keep_last: int, keep_days: int,
                                                 kept_ages: list[float]) -> None:
    checks = [_ok(age) for age in ages]
    plan = plan_retention(checks, keep_last, keep_days, NOW, new_backups=1)
    assert sorted(plan.keep) == sorted(_ok(age).id for age in kept_ages)
    assert sorted(plan.remove) == sorted(set(check.id for check in checks) - set(plan.keep))


def test_dated_in_future() -> None:
    checks = [_ok(-1), _ok(-0.002), _ok(0), _ok(3),
              BackupCheck(id="20990101T000000Z", path="", status=STATUS_CORRUPT, created_at="2099-01-01T00:00:00Z")]
    # A day ahead counts; three minutes ahead is clock jitter; a corrupt one does not count anyway.
    assert dated_in_future(checks, NOW) == [_ok(-1).id]


def test_plan_retention_by_days() -> None:
    checks = [_ok(age) for age in (0, 1, 2.9, 3.1, 10)]
    plan = plan_retention(checks, 0, 3, NOW)
    assert sorted(plan.keep) == sorted(_ok(age).id for age in (0, 1, 2.9))
    assert plan.keep[_ok(0).id] == ["newest verified backup", "younger than 3 days"]


def test_plan_retention_removes_incomplete_and_leaves_corrupt_alone() -> None:
    incomplete = BackupCheck(id="20261128T000000Z", path="", status=STATUS_INCOMPLETE)
    corrupt = BackupCheck(id="20261127T000000Z", path="", status=STATUS_CORRUPT, problems=["db.dump is missing"])
    protected = BackupCheck(id="20261129T031000Z", path="", status=STATUS_INCOMPLETE)
    plan = plan_retention([_ok(0), incomplete, corrupt, protected], 1, 0, NOW, protect=["20261129T031000Z"])
    assert incomplete.id in plan.remove and corrupt.id not in plan.remove
    assert plan.left_alone == {corrupt.id: "db.dump is missing"}
    assert plan.keep[protected.id] == ["in use by this run"]


def test_plan_retention_keeps_an_incomplete_folder_still_written_to() -> None:
    grace = datetime.timedelta(hours=24)
    running = BackupCheck(id="20261129T000000Z", path="", status=STATUS_INCOMPLETE,
                          last_write=(NOW - datetime.timedelta(minutes=90)).timestamp())
    killed = BackupCheck(id="20261128T000000Z", path="", status=STATUS_INCOMPLETE,
                         last_write=(NOW - datetime.timedelta(hours=25)).timestamp())
    plan = plan_retention([_ok(0), running, killed], 1, 0, NOW, incomplete_grace=grace)
    assert plan.remove == [killed.id]
    assert plan.keep[running.id] == ["incomplete, written to 90 min ago: maybe a backup still running"]
    # Without a grace (the function's default), both go.
    assert sorted(plan_retention([_ok(0), running, killed], 1, 0, NOW).remove) == sorted([running.id, killed.id])


def test_an_incomplete_folder_reports_its_last_write(tmp_path: Path) -> None:
    folder = tmp_path / "20261129T031000Z"
    folder.mkdir()
    (folder / ".db.dump.partial").write_bytes(b"x" * 10)
    os.utime(folder / ".db.dump.partial", (1_700_000_000, 1_700_000_000))
    os.utime(folder, (1_600_000_000, 1_600_000_000))
    check = check_backup(str(folder), checksums=False)
    assert check.status == STATUS_INCOMPLETE and check.size_bytes == 10 and check.last_write == 1_700_000_000


def test_plan_retention_protects_ids() -> None:
    old = _ok(30)
    plan = plan_retention([_ok(0), old], 1, 0, NOW, protect=[old.id])
    assert plan.keep[old.id] == ["in use by this run"] and plan.remove == []


def test_plan_retention_refuses_negative_rules() -> None:
    with pytest.raises(BackupError):
        plan_retention([], -1, 0, NOW)


def test_manifest_is_json_with_a_newline(tmp_path: Path) -> None:
    folder = make_backup(tmp_path, "20261129T031000Z")
    text = (folder / "manifest.json").read_text()
    assert text.endswith("}\n") and json.loads(text)["id"] == "20261129T031000Z"
