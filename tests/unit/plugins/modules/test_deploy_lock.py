# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.deploy_lock and deploy_lock_info, run whole in a temporary directory."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import deploy_lock, deploy_lock_info
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module, run_sequence

RESULT_KEYS = {"lock", "previous", "acquired", "stale", "diff"}
STALE_LOCK = {
    "holder": "bob@ci",
    "run_id": "run-old",
    "playbook": "backup.yml",
    "started_at": "2026-01-01T00:00:00Z",
    "ttl_seconds": 60,
    "expires_at": "2026-01-01T00:01:00Z",
}


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "lock"


def _args(lock_path: Path, run_id: str = "run-1", **options: t.Any) -> dict[str, t.Any]:
    return {"path": str(lock_path), "run_id": run_id, "holder": f"{run_id}@host", "playbook": "deploy.yml", **options}


def _keys(result: dict[str, t.Any]) -> set[str]:
    return set(result) - {"invocation", "warnings", "msg", "failed", "changed"}


def test_acquire_check_apply_check_apply(lock_path: Path) -> None:
    results = run_sequence(deploy_lock.main, _args(lock_path))
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert all(result["acquired"] for result in results)
    assert all(_keys(result) == RESULT_KEYS for result in results)
    written = json.loads(lock_path.read_text())
    assert results[3]["lock"] == written
    assert written["holder"] == "run-1@host"
    assert written["playbook"] == "deploy.yml"
    assert written["ttl_seconds"] == 3600
    assert results[1]["diff"] == {"before": "", "after": lock_path.read_text()}


def test_check_mode_does_not_create_the_lock(lock_path: Path) -> None:
    result = run_module(deploy_lock.main, _args(lock_path), check_mode=True)
    assert result["changed"] is True and result["acquired"] is True
    assert not lock_path.exists()


@pytest.mark.parametrize("check_mode", [True, False])
def test_contention_fails_naming_the_holder(lock_path: Path, check_mode: bool) -> None:
    run_module(deploy_lock.main, _args(lock_path, "run-1", ttl_seconds=900))
    held = lock_path.read_text()
    result = run_module(deploy_lock.main, _args(lock_path, "run-2"), check_mode=check_mode)
    assert result["failed"] is True
    first = json.loads(held)
    assert result["msg"].startswith(
        f"The deploy lock {lock_path} is held by run-1@host (playbook deploy.yml, run run-1) "
        f"since {first['started_at']}, until {first['expires_at']}."
    )
    assert "run_control_lock_takeover=true" in result["msg"]
    assert result["acquired"] is False and result["stale"] is False
    assert result["lock"] == first
    assert _keys(result) == RESULT_KEYS
    assert lock_path.read_text() == held


def test_stale_lock_without_takeover_fails_with_the_way_out(lock_path: Path) -> None:
    lock_path.write_text(json.dumps(STALE_LOCK))
    result = run_module(deploy_lock.main, _args(lock_path))
    assert result["failed"] is True
    assert result["stale"] is True
    assert f"The deploy lock {lock_path} is stale: it is held by bob@ci (playbook backup.yml" in result["msg"]
    assert "rerun with run_control_lock_takeover=true" in result["msg"]
    assert json.loads(lock_path.read_text()) == STALE_LOCK


def test_stale_lock_takeover(lock_path: Path) -> None:
    lock_path.write_text(json.dumps(STALE_LOCK))
    results = run_sequence(deploy_lock.main, _args(lock_path, takeover=True))
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert results[0]["previous"] == results[1]["previous"] == STALE_LOCK
    assert results[0]["stale"] is results[1]["stale"] is True
    assert results[2]["previous"] is None and results[2]["stale"] is False
    assert any("Took over the stale deploy lock" in warning for warning in results[1]["warnings"])
    assert json.loads(lock_path.read_text())["run_id"] == "run-1"


def test_extend_keeps_the_lock_of_its_run_for_a_long_step(lock_path: Path) -> None:
    taken = run_module(deploy_lock.main, _args(lock_path, ttl_seconds=3600))
    assert taken["changed"] and not taken.get("failed")
    first = json.loads(lock_path.read_text())
    # Already honoured long enough: nothing to write.
    same = run_module(deploy_lock.main, _args(lock_path, extend_seconds=600))
    assert same["changed"] is False and json.loads(lock_path.read_text()) == first
    results = run_sequence(deploy_lock.main, _args(lock_path, extend_seconds=6 * 3600))
    assert [result["changed"] for result in results][:2] == [True, True]
    extended = json.loads(lock_path.read_text())
    assert {key: extended[key] for key in ("holder", "run_id", "started_at")} == {key: first[key] for key in ("holder", "run_id", "started_at")}
    assert extended["expires_at"] > first["expires_at"] and extended["ttl_seconds"] >= 6 * 3600


@pytest.mark.parametrize("found", ["taken over", "released"])
def test_extend_stops_a_run_that_lost_its_lock(lock_path: Path, found: str) -> None:
    if found == "taken over":
        lock_path.write_text(json.dumps(dict(STALE_LOCK, run_id="run-2", expires_at="2999-01-01T00:00:00Z")))
    before = lock_path.read_text() if lock_path.exists() else None
    result = run_module(deploy_lock.main, _args(lock_path, extend_seconds=600))
    assert result["failed"] is True and "Run run-1 no longer holds the deploy lock" in result["msg"]
    assert ("run-2" in result["msg"]) is (found == "taken over") and ("is gone" in result["msg"]) is (found == "released")
    assert (lock_path.read_text() if lock_path.exists() else None) == before


def test_extend_needs_state_present(lock_path: Path) -> None:
    result = run_module(deploy_lock.main, _args(lock_path, state="absent", extend_seconds=600))
    assert result["failed"] is True and "extend_seconds must be a positive number" in result["msg"]


def test_takeover_never_replaces_a_live_lock(lock_path: Path) -> None:
    run_module(deploy_lock.main, _args(lock_path, "run-1"))
    result = run_module(deploy_lock.main, _args(lock_path, "run-2", takeover=True))
    assert result["failed"] is True
    assert json.loads(lock_path.read_text())["run_id"] == "run-1"


def test_corrupt_lock_is_stale(lock_path: Path) -> None:
    lock_path.write_text("garbage")
    failed = run_module(deploy_lock.main, _args(lock_path))
    assert failed["failed"] is True
    assert "holds no valid lock (not JSON)" in failed["msg"]
    taken = run_module(deploy_lock.main, _args(lock_path, takeover=True))
    assert taken["changed"] is True and taken["previous"] is None and taken["acquired"] is True


def test_release_by_owner(lock_path: Path) -> None:
    run_module(deploy_lock.main, _args(lock_path))
    acquired = json.loads(lock_path.read_text())
    results = run_sequence(deploy_lock.main, {"path": str(lock_path), "state": "absent", "run_id": "run-1"})
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert results[0]["previous"] == results[1]["previous"] == acquired
    assert all(result["lock"] is None and result["acquired"] is False for result in results)
    assert not lock_path.exists()


def test_release_by_non_owner_leaves_the_lock(lock_path: Path) -> None:
    run_module(deploy_lock.main, _args(lock_path, "run-1"))
    held = lock_path.read_text()
    result = run_module(deploy_lock.main, {"path": str(lock_path), "state": "absent", "run_id": "run-2"})
    assert result["changed"] is False
    assert result["lock"]["run_id"] == "run-1"
    assert any("run run-2 does not hold it, so it is left in place" in warning for warning in result["warnings"])
    assert lock_path.read_text() == held


def test_forced_release(lock_path: Path) -> None:
    run_module(deploy_lock.main, _args(lock_path, "run-1"))
    args = {"path": str(lock_path), "state": "absent", "run_id": "operator", "force": True}
    planned = run_module(deploy_lock.main, args, check_mode=True)
    assert planned["changed"] is True and lock_path.exists()
    result = run_module(deploy_lock.main, args)
    assert result["changed"] is True
    assert result["previous"]["run_id"] == "run-1"
    assert not lock_path.exists()


def test_info_reads_only(lock_path: Path) -> None:
    empty = run_module(deploy_lock_info.main, {"path": str(lock_path)})
    assert (empty["changed"], empty["lock"], empty["acquired"], empty["stale"]) == (False, None, False, False)
    assert empty["summary"] == "is not held"
    run_module(deploy_lock.main, _args(lock_path, "run-1"))
    held = lock_path.read_text()
    for check_mode in (True, False):
        mine = run_module(deploy_lock_info.main, {"path": str(lock_path), "run_id": "run-1"}, check_mode=check_mode)
        assert mine["changed"] is False and mine["acquired"] is True and mine["lock"]["run_id"] == "run-1"
        assert mine["summary"].startswith("is held by run-1@host (playbook deploy.yml, run run-1) since ")
    other = run_module(deploy_lock_info.main, {"path": str(lock_path), "run_id": "run-2"})
    assert other["acquired"] is False and other["stale"] is False
    assert set(other) - {"invocation", "warnings", "changed"} == {"lock", "stale", "acquired", "summary"}
    assert lock_path.read_text() == held


def test_info_on_a_stale_lock(lock_path: Path) -> None:
    lock_path.write_text(json.dumps(STALE_LOCK))
    result = run_module(deploy_lock_info.main, {"path": str(lock_path)})
    assert result["stale"] is True and result["lock"] == STALE_LOCK


def test_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "state" / "lock"
    failed = run_module(deploy_lock.main, _args(path))
    assert failed["failed"] is True and "does not exist" in failed["msg"]
    planned = run_module(deploy_lock.main, _args(path), check_mode=True)
    assert planned["changed"] is True
    info = run_module(deploy_lock_info.main, {"path": str(path)})
    assert info["lock"] is None
    released = run_module(deploy_lock.main, {"path": str(path), "state": "absent", "run_id": "run-1"})
    assert released["changed"] is False


def test_required_options(lock_path: Path) -> None:
    no_holder = run_module(deploy_lock.main, {"path": str(lock_path), "run_id": "r"})
    assert no_holder["failed"] is True and "holder" in no_holder["msg"]
    assert run_module(deploy_lock.main, {"path": str(lock_path), "state": "absent"})["failed"] is True
    bad_ttl = run_module(deploy_lock.main, _args(lock_path, ttl_seconds=0))
    assert bad_ttl["failed"] is True and "ttl_seconds" in bad_ttl["msg"]
