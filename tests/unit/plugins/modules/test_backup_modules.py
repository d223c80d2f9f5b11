# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backup modules run whole, in-process, without a database server.

What needs a real PostgreSQL (dump, restore, rollback of a failed restore) lives in
tests/integration/plugins/modules/test_backup_pg.py.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import time
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import (
    backup_info,
    backup_manifest,
    pg_dump,
    pg_restore,
    uploads_archive,
)
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.probe_harness import run_module

PASSWORD = "Pa55:w/rd#!"
ENCODED = "Pa55%3Aw%2Frd%23%21"
DUMP_KEYS = {"changed", "dest", "format", "jobs", "size_bytes", "sha256", "toc_entries", "tables", "database",
             "migrations", "tools", "durations", "verify", "command", "queries"}
RESTORE_KEYS = {"changed", "src", "format", "toc_entries", "dumped_by", "dumped_from", "schemas", "tables_checked",
                "tools", "durations", "command"}


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fake_tools(folder: Path, version: str = "17.12", listing: str = "", list_exit: int = 0) -> str:
    """pg_dump, pg_restore and psql stand-ins printing a version; pg_restore --list prints `listing`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "listing").write_text(listing)
    for name in ("pg_dump", "pg_restore", "psql"):
        program = folder / name
        program.write_text(
            "#!/bin/sh\n"
            f'if [ "$1" = "--version" ]; then echo "{name} (PostgreSQL) {version}"; exit 0; fi\n'
            f'if [ "$1" = "--list" ]; then cat {folder}/listing; echo "cannot read" >&2; exit {list_exit}; fi\n'
            "exit 0\n"
        )
        program.chmod(0o755)
    return str(folder)


def _backup(root: Path, backup_id: str, created_at: str, files: dict[str, bytes] | None = None, seal: bool = True) -> Path:
    folder = root / backup_id
    folder.mkdir(parents=True)
    for name, data in (files or {"db.dump": b"PGDMP " + backup_id.encode(), "uploads.tar": b"tar"}).items():
        (folder / name).write_bytes(data)
    if seal:
        outcome = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": created_at, "reason": "test"}})
        assert not outcome.failed, outcome.result
    return folder


# ---------------------------------------------------------------------------------------------
# backup_manifest

def test_manifest_is_written_last_and_verified(tmp_path: Path) -> None:
    folder = tmp_path / "20261129T031000Z"
    folder.mkdir()
    (folder / "db.dump").write_bytes(b"PGDMP")
    outcome = run_module(backup_manifest.main, {
        "path": str(folder),
        "content": {"created_at": "2026-11-29T03:10:00Z", "release": {"id": "v1-abc"}},
        "expect_checksums": {"db.dump": "9a5fe3ec8b5c66c1d64b4a3e1a2b6e0c1b5e2a1c0b6f6b0e9c0f4e0d0f5e0a1b"},
    })
    assert outcome.failed and "db.dump changed after it was written" in outcome.result["msg"]
    assert not (folder / "manifest.json").exists()

    outcome = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    assert not outcome.failed and outcome.result["changed"]
    written = json.loads((folder / "manifest.json").read_text())
    assert written == outcome.result["manifest"] and written["id"] == "20261129T031000Z"
    assert written["files"]["db.dump"]["size"] == 5
    assert stat.S_IMODE((folder / "manifest.json").stat().st_mode) == 0o600

    again = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    assert again.failed and "never rewritten" in again.result["msg"]


def test_manifest_that_cannot_be_written_fails_with_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "20261129T031000Z"
    folder.mkdir()
    (folder / "db.dump").write_bytes(b"PGDMP")

    def full_disk(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    outcome = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    monkeypatch.undo()
    assert outcome.failed and not outcome.result["changed"]
    assert outcome.result["msg"] == (f"The backup cannot be sealed: {folder}: No space left on device. "
                                     "Without its manifest the backup does not count.")
    assert sorted(path.name for path in folder.iterdir()) == ["db.dump"]
    assert not (folder / "manifest.json").exists()


def test_manifest_refuses_unfinished_or_misnamed_folders(tmp_path: Path) -> None:
    folder = tmp_path / "20261129T031000Z"
    folder.mkdir()
    (folder / ".db.dump.partial").write_bytes(b"x")
    outcome = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    assert outcome.failed and "temporary files are left" in outcome.result["msg"]
    # A directory-format dump cut short: its files are inside the temporary folder.
    (folder / ".db.dump.partial").unlink()
    (folder / ".db.dir.partial").mkdir()
    (folder / ".db.dir.partial" / "toc.dat").write_bytes(b"x")
    outcome = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    assert outcome.failed and "temporary files are left" in outcome.result["msg"] and "toc.dat" in outcome.result["msg"]
    other = tmp_path / "latest"
    other.mkdir()
    outcome = run_module(backup_manifest.main, {"path": str(other), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    assert outcome.failed and "named by its id" in outcome.result["msg"]
    empty = tmp_path / "20261129T031001Z"
    empty.mkdir()
    outcome = run_module(backup_manifest.main, {"path": str(empty), "content": {"created_at": "2026-11-29T03:10:00Z"}})
    assert outcome.failed and "holds no file" in outcome.result["msg"]
    (empty / "f").write_bytes(b"")
    outcome = run_module(backup_manifest.main, {"path": str(empty), "content": {"created_at": "someday"}})
    assert outcome.failed and "no valid created_at" in outcome.result["msg"]


def test_manifest_in_check_mode_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "20261129T031000Z"
    folder.mkdir()
    (folder / "db.dump").write_bytes(b"PGDMP")
    outcome = run_module(backup_manifest.main, {"path": str(folder), "content": {"created_at": "2026-11-29T03:10:00Z"}},
                         check_mode=True)
    assert outcome.result["changed"] and outcome.result["manifest"]["files"]["db.dump"]["size"] == 5
    assert not (folder / "manifest.json").exists()


# ---------------------------------------------------------------------------------------------
# backup_info

def test_info_selects_the_newest_backup_that_verifies(tmp_path: Path) -> None:
    _backup(tmp_path, "20261127T000000Z", "2026-11-27T00:00:00Z")
    _backup(tmp_path, "20261128T000000Z", "2026-11-28T00:00:00Z")
    newest = _backup(tmp_path, "20261129T000000Z", "2026-11-29T00:00:00Z")
    (newest / "db.dump").write_bytes(b"PGDMP 20261129T000099Z")  # same size, other content
    _backup(tmp_path, "20261130T000000Z", "", seal=False)
    (tmp_path / "notes.txt").write_text("x")

    outcome = run_module(backup_info.main, {"path": str(tmp_path)})
    result = outcome.result
    assert not outcome.failed and not result["changed"]
    assert result["selected"]["id"] == "20261128T000000Z" and result["selected"]["checksums_verified"]
    assert result["manifest"]["id"] == "20261128T000000Z"
    statuses = {item["id"]: item["status"] for item in result["backups"]}
    assert statuses == {"20261130T000000Z": "incomplete", "20261129T000000Z": "corrupt",
                        "20261128T000000Z": "ok", "20261127T000000Z": "ok"}
    assert result["ignored"] == ["notes.txt"]
    assert result["retention"] == {"keep": {}, "remove": [], "left_alone": {}}
    assert result["dated_in_future"] == []


def test_info_names_the_backups_dated_in_the_future(tmp_path: Path) -> None:
    _backup(tmp_path, "20261128T000000Z", "2026-11-28T00:00:00Z")
    _backup(tmp_path, "20990101T000000Z", "2099-01-01T00:00:00Z")
    result = run_module(backup_info.main, {"path": str(tmp_path), "checksums": False, "keep_last": 1}).result
    assert result["dated_in_future"] == ["20990101T000000Z"]
    assert result["selected"]["id"] == "20990101T000000Z"


def test_info_keeps_an_incomplete_folder_written_to_recently(tmp_path: Path) -> None:
    _backup(tmp_path, "20261128T000000Z", "2026-11-28T00:00:00Z")
    running = _backup(tmp_path, "20261130T000000Z", "", seal=False)
    killed = _backup(tmp_path, "20261129T000000Z", "", seal=False)
    day_old = time.time() - 25 * 3600
    for path in [killed, *killed.iterdir()]:
        os.utime(path, (day_old, day_old))
    result = run_module(backup_info.main, {"path": str(tmp_path), "checksums": False, "keep_last": 1}).result
    assert result["retention"]["remove"] == [str(killed)]
    assert "maybe a backup still running" in result["retention"]["keep"][running.name][0]
    at_once = run_module(backup_info.main, {"path": str(tmp_path), "checksums": False, "keep_last": 1,
                                            "incomplete_grace_hours": 0}).result
    assert sorted(at_once["retention"]["remove"]) == sorted([str(killed), str(running)])


def test_info_verifies_the_backup_asked_for(tmp_path: Path) -> None:
    folder = _backup(tmp_path, "20261128T000000Z", "2026-11-28T00:00:00Z")
    assert run_module(backup_info.main, {"path": str(tmp_path), "backup_id": "20261128T000000Z"}).result["selected"]["status"] == "ok"
    (folder / "uploads.tar").write_bytes(b"TAR")
    selected = run_module(backup_info.main, {"path": str(tmp_path), "backup_id": "20261128T000000Z"}).result["selected"]
    assert selected["status"] == "corrupt" and "uploads.tar does not match its sha256" in selected["problems"][0]
    unchecked = run_module(backup_info.main, {"path": str(tmp_path), "backup_id": "20261128T000000Z", "checksums": False})
    assert unchecked.result["selected"]["status"] == "ok" and not unchecked.result["selected"]["checksums_verified"]
    missing = run_module(backup_info.main, {"path": str(tmp_path), "backup_id": "20261101T000000Z"}).result["selected"]
    assert missing["status"] == "corrupt" and "there is no backup 20261101T000000Z" in missing["problems"][0]
    odd = run_module(backup_info.main, {"path": str(tmp_path), "backup_id": "../etc"}).result
    assert "is not a backup id" in odd["selected"]["problems"][0] and odd["manifest"] == {}


def test_info_plans_the_retention(tmp_path: Path) -> None:
    for day in range(20, 30):
        _backup(tmp_path, f"202611{day}T000000Z", f"2026-11-{day}T00:00:00Z")
    result = run_module(backup_info.main, {"path": str(tmp_path), "checksums": False, "keep_last": 3, "protect": ["20261120T000000Z"]}).result
    assert sorted(result["retention"]["keep"]) == ["20261120T000000Z", "20261127T000000Z", "20261128T000000Z", "20261129T000000Z"]
    assert result["retention"]["remove"] == [str(tmp_path / f"202611{day}T000000Z") for day in range(26, 20, -1)]
    assert all((tmp_path / f"202611{day}T000000Z").exists() for day in range(20, 30))  # only planned


def test_info_of_a_missing_root(tmp_path: Path) -> None:
    result = run_module(backup_info.main, {"path": str(tmp_path / "none")}).result
    assert result["exists"] is False and result["backups"] == [] and result["selected"] == {}


# ---------------------------------------------------------------------------------------------
# uploads_archive

def test_uploads_archive_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "uploads"
    (source / "posts").mkdir(parents=True)
    (source / "posts" / "a.png").write_bytes(b"a")
    (source / "b.png").write_bytes(b"bb")
    args = {"path": str(tmp_path / "u.tar"), "checksum_file": str(tmp_path / "u.sha256")}

    planned = run_module(uploads_archive.main, {**args, "state": "archived", "src": str(source)}, check_mode=True)
    assert planned.result["changed"] and planned.result["files"] == 2 and not (tmp_path / "u.tar").exists()
    archived = run_module(uploads_archive.main, {**args, "state": "archived", "src": str(source)})
    assert archived.result["changed"] and archived.result["files"] == 2 and archived.result["bytes"] == 3
    assert len(archived.result["archive_sha256"]) == 64
    again = run_module(uploads_archive.main, {**args, "state": "archived", "src": str(source)})
    assert again.failed and "never overwritten" in again.result["msg"]

    verified = run_module(uploads_archive.main, {**args, "state": "verified"})
    assert not verified.failed and not verified.result["changed"] and verified.result["problems"] == []

    dest = tmp_path / "restored"
    extracted = run_module(uploads_archive.main, {**args, "state": "extracted", "dest": str(dest), "mode": "0750"})
    assert extracted.result["changed"] and (dest / "posts" / "a.png").read_bytes() == b"a"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750


def test_uploads_archive_refuses_a_tampered_list(tmp_path: Path) -> None:
    source = tmp_path / "uploads"
    source.mkdir()
    (source / "a.png").write_bytes(b"a")
    args = {"path": str(tmp_path / "u.tar"), "checksum_file": str(tmp_path / "u.sha256")}
    run_module(uploads_archive.main, {**args, "state": "archived", "src": str(source)})
    (tmp_path / "u.sha256").write_text(f"{'0' * 64}  a.png\n")
    refused = run_module(uploads_archive.main, {**args, "state": "extracted", "dest": str(tmp_path / "r")})
    assert refused.failed and "a.png does not match its sha256 in the list" in refused.result["msg"]
    assert "nothing was extracted" in refused.result["msg"] and not (tmp_path / "r").exists()


def test_uploads_archive_needs_its_paths(tmp_path: Path) -> None:
    outcome = run_module(uploads_archive.main, {"state": "archived", "path": str(tmp_path / "u.tar"),
                                                "checksum_file": str(tmp_path / "u.sha256")})
    assert outcome.failed and "src" in outcome.result["msg"]
    outcome = run_module(uploads_archive.main, {"state": "archived", "src": str(tmp_path / "none"), "path": str(tmp_path / "u.tar"),
                                                "checksum_file": str(tmp_path / "u.sha256")})
    assert outcome.failed and "is not a folder" in outcome.result["msg"]


# ---------------------------------------------------------------------------------------------
# pg_dump and pg_restore: what they refuse before a server is involved

def _env_file(tmp_path: Path, port: int) -> str:
    env = tmp_path / ".env"
    env.write_text(f'DATABASE_URL="postgresql://nekomorto_app:{ENCODED}@127.0.0.1:{port}/nekomorto"\n')
    return str(env)


def test_pg_dump_unreachable_database(tmp_path: Path, closed_port: int) -> None:
    dest = tmp_path / "db.dump"
    outcome = run_module(pg_dump.main, {"env_file": _env_file(tmp_path, closed_port), "dest": str(dest),
                                        "bin_dir": _fake_tools(tmp_path / "bin")})
    assert outcome.failed and set(outcome.result) >= DUMP_KEYS
    assert outcome.result["msg"].startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{closed_port} as nekomorto_app")
    assert PASSWORD not in json.dumps(outcome.result) and ENCODED not in json.dumps(outcome.result)
    assert not dest.exists()
    assert not list(tmp_path.glob(".db.dump.partial"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"format": "custom", "jobs": 4}, "jobs > 1 needs format=directory"),
        ({"jobs": 0}, "jobs must be 1 or more"),
    ],
)
def test_pg_dump_argument_rules(tmp_path: Path, closed_port: int, args: dict, message: str) -> None:
    outcome = run_module(pg_dump.main, {"env_file": _env_file(tmp_path, closed_port), "dest": str(tmp_path / "d"), **args})
    assert outcome.failed and message in outcome.result["msg"]


def test_pg_dump_never_overwrites(tmp_path: Path, closed_port: int) -> None:
    (tmp_path / "db.dump").write_bytes(b"older")
    outcome = run_module(pg_dump.main, {"env_file": _env_file(tmp_path, closed_port), "dest": str(tmp_path / "db.dump")})
    assert outcome.failed and "never overwritten" in outcome.result["msg"]
    assert (tmp_path / "db.dump").read_bytes() == b"older"
    outcome = run_module(pg_dump.main, {"env_file": _env_file(tmp_path, closed_port), "dest": str(tmp_path / "no" / "db.dump")})
    assert outcome.failed and "does not exist; create it first" in outcome.result["msg"]


def test_pg_dump_missing_program(tmp_path: Path, closed_port: int) -> None:
    (tmp_path / "empty").mkdir()
    outcome = run_module(pg_dump.main, {"env_file": _env_file(tmp_path, closed_port), "dest": str(tmp_path / "d"),
                                        "bin_dir": str(tmp_path / "empty")})
    assert outcome.failed and "pg_dump is not an executable in bin_dir" in outcome.result["msg"]


def test_pg_restore_refuses_an_unreadable_archive(tmp_path: Path) -> None:
    (tmp_path / "db.dump").write_bytes(b"garbage")
    outcome = run_module(pg_restore.main, {"src": str(tmp_path / "db.dump"), "verify_only": True,
                                           "bin_dir": _fake_tools(tmp_path / "bin", list_exit=1)})
    assert outcome.failed and set(outcome.result) >= RESTORE_KEYS
    assert "pg_restore cannot read" in outcome.result["msg"] and "nothing was restored" in outcome.result["msg"]


def test_pg_restore_refuses_an_archive_newer_than_its_tools(tmp_path: Path) -> None:
    (tmp_path / "db.dump").write_bytes(b"PGDMP")
    listing = ";     Dumped by pg_dump version: 18.1\n;\n3450; 0 16404 TABLE DATA public posts app\n"
    outcome = run_module(pg_restore.main, {"src": str(tmp_path / "db.dump"), "verify_only": True,
                                           "bin_dir": _fake_tools(tmp_path / "bin", version="17.12", listing=listing)})
    assert outcome.failed and "older than the pg_dump 18.1 that wrote the backup" in outcome.result["msg"]


def test_pg_restore_needs_a_connection_to_restore(tmp_path: Path) -> None:
    (tmp_path / "db.dump").write_bytes(b"PGDMP")
    outcome = run_module(pg_restore.main, {"src": str(tmp_path / "db.dump")})
    assert outcome.failed and "database_url, env_file" in outcome.result["msg"]
    missing = run_module(pg_restore.main, {"src": str(tmp_path / "none"), "verify_only": True})
    assert missing.failed and "does not exist" in missing.result["msg"]


def test_pg_restore_unreachable_database_restores_nothing(tmp_path: Path, closed_port: int) -> None:
    (tmp_path / "db.dump").write_bytes(b"PGDMP")
    listing = ";     Dumped by pg_dump version: 17.12\n;\n3450; 0 16404 TABLE DATA public posts app\n"
    outcome = run_module(pg_restore.main, {"src": str(tmp_path / "db.dump"), "env_file": _env_file(tmp_path, closed_port),
                                           "bin_dir": _fake_tools(tmp_path / "bin", listing=listing)})
    assert outcome.failed and "Nothing was restored" in outcome.result["msg"]
    assert outcome.result["changed"] is False and outcome.result["schemas"] == ["public"]
    assert PASSWORD not in json.dumps(outcome.result)
