# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lock file's pure parts and its exclusive creation."""

from __future__ import annotations

import datetime
import json
import multiprocessing
import typing as t
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._deploy_lock import (
    LOCK_FIELDS,
    LockFile,
    build_lock,
    create_lock,
    guarded,
    read_lock,
    remove_lock,
    replace_lock,
)

NOW = datetime.datetime(2026, 11, 29, 3, 10, 0, 500000, tzinfo=datetime.timezone.utc)


def test_build_lock_fields_and_expiry() -> None:
    lock = build_lock("alice@laptop", "run-1", "deploy.yml", 600, NOW)
    assert tuple(lock) == LOCK_FIELDS
    assert lock["started_at"] == "2026-11-29T03:10:00Z"
    assert lock["expires_at"] == "2026-11-29T03:20:00Z"


@pytest.mark.parametrize(
    ("seconds_after_start", "stale"),
    [(0, False), (599, False), (600, True), (3600, True)],
)
def test_staleness(seconds_after_start: int, stale: bool) -> None:
    found = LockFile(exists=True, lock=build_lock("a", "r", None, 600, NOW.replace(microsecond=0)))
    assert found.is_stale(NOW.replace(microsecond=0) + datetime.timedelta(seconds=seconds_after_start)) is stale


def test_missing_lock_is_not_stale() -> None:
    assert LockFile(exists=False).is_stale(NOW) is False


@pytest.mark.parametrize(
    ("content", "invalid"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"holder": "a"}', "no run_id, expires_at"),
    ],
)
def test_invalid_lock_files_are_stale(tmp_path: Path, content: bytes, invalid: str) -> None:
    path = tmp_path / "lock"
    path.write_bytes(content)
    found = read_lock(str(path))
    assert found.exists and found.lock is None
    assert found.invalid == invalid
    assert found.is_stale(NOW) is True
    assert found.describe() == f"holds no valid lock ({invalid})"


def test_unparseable_expiry_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    path.write_text(json.dumps({"holder": "a", "run_id": "r", "expires_at": "soon"}))
    assert read_lock(str(path)).is_stale(NOW) is True


def test_describe_names_holder_playbook_start_and_expiry() -> None:
    found = LockFile(exists=True, lock=build_lock("alice@laptop", "run-1", "deploy.yml", 600, NOW))
    assert found.describe() == (
        "is held by alice@laptop (playbook deploy.yml, run run-1) since 2026-11-29T03:10:00Z, "
        "until 2026-11-29T03:20:00Z"
    )


def test_create_is_exclusive_and_complete(tmp_path: Path) -> None:
    path = str(tmp_path / "lock")
    first = build_lock("a", "run-1", None, 60, NOW)
    assert create_lock(path, first) is True
    assert create_lock(path, build_lock("b", "run-2", None, 60, NOW)) is False
    assert read_lock(path).lock == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock"]
    assert (Path(path).stat().st_mode & 0o777) == 0o644


def test_replace_and_remove(tmp_path: Path) -> None:
    path = str(tmp_path / "lock")
    create_lock(path, build_lock("a", "run-1", None, 60, NOW))
    replace_lock(path, build_lock("b", "run-2", None, 60, NOW))
    assert read_lock(path).held_by("run-2")
    remove_lock(path)
    remove_lock(path)
    assert read_lock(path).exists is False


def _race(path: str, run_id: str, start: t.Any, results: t.Any) -> None:
    start.wait()
    with guarded(path, exclusive=True):
        results.put((run_id, create_lock(path, build_lock(run_id, run_id, None, 60, NOW))))


def test_only_one_of_several_racing_processes_gets_the_lock(tmp_path: Path) -> None:
    path = str(tmp_path / "lock")
    context = multiprocessing.get_context("fork")
    start = context.Event()
    results = context.Queue()
    workers = [context.Process(target=_race, args=(path, f"run-{index}", start, results)) for index in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(30)
    outcomes = dict(results.get(timeout=5) for _worker in workers)
    winners = [run_id for run_id, won in outcomes.items() if won]
    assert len(winners) == 1
    assert read_lock(path).held_by(winners[0])
