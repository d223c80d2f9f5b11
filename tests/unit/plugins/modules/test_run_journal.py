# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.run_journal, run whole in a temporary directory and as concurrent processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.nekomorto.ops.plugins.modules import run_journal
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module

RESULT_KEYS = {"path", "entry", "entries", "masked", "diff"}
PATH_INFO_KEYS = {"uid", "gid", "owner", "group", "mode", "size", "state"}
DB_PASSWORD = "pw-Zq8mXv3T-journal"
ENTRY = {"run_id": "run-1", "playbook": "deploy.yml", "release": "v2.3.0", "outcome": "success",
         "checks": [{"name": "health", "status": "ok", "latency_ms": 12}]}


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "journal.jsonl"


def _keys(result: dict[str, t.Any]) -> set[str]:
    return set(result) - {"invocation", "warnings", "msg", "failed", "changed"} - PATH_INFO_KEYS


def _lines(journal: Path) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


def test_check_apply_check_apply(journal: Path) -> None:
    args = {"path": str(journal), "entry": ENTRY, "tail": 5}
    results = [run_module(run_journal.main, args, check_mode=check) for check in (True, False, True, False)]
    # Appending is never idempotent: every run with an entry (would) append one.
    assert [result["changed"] for result in results] == [True, True, True, True]
    assert len(_lines(journal)) == 2
    assert [len(result["entries"]) for result in results] == [1, 1, 2, 2]
    assert all(_keys(result) == RESULT_KEYS for result in results)
    written = _lines(journal)[-1]
    assert results[3]["entry"] == written
    assert results[3]["entries"][-1] == written
    assert list(written)[:2] == ["ts", "run_id"]
    assert written["ts"].endswith("Z")
    assert results[3]["diff"] == {"before": "", "after": json.dumps(written, ensure_ascii=False) + "\n"}
    assert (journal.stat().st_mode & 0o777) == 0o640


def test_check_mode_does_not_create_the_journal(journal: Path) -> None:
    result = run_module(run_journal.main, {"path": str(journal), "entry": ENTRY}, check_mode=True)
    assert result["changed"] is True
    assert result["entry"]["run_id"] == "run-1"
    assert not journal.exists()


def test_tail_only_reads(journal: Path) -> None:
    for index in range(7):
        run_module(run_journal.main, {"path": str(journal), "entry": {"n": index}})
    before = journal.read_bytes()
    results = [run_module(run_journal.main, {"path": str(journal), "tail": 3}, check_mode=check) for check in (True, False)]
    for result in results:
        assert result["changed"] is False
        assert result["entry"] is None
        assert [entry["n"] for entry in result["entries"]] == [4, 5, 6]
        assert result["diff"] == {"before": "", "after": ""}
        assert _keys(result) == RESULT_KEYS
    assert journal.read_bytes() == before


def test_tail_of_a_missing_journal(journal: Path) -> None:
    result = run_module(run_journal.main, {"path": str(journal), "tail": 3})
    assert (result["changed"], result["entries"]) == (False, [])
    assert not journal.exists()


def test_secret_in_entry_is_refused_naming_the_key_path_only(journal: Path) -> None:
    entry = {**ENTRY, "checks": [{"name": "db", "message": f"connect postgresql://app:{DB_PASSWORD}@db/x failed"}]}
    for check_mode in (True, False):
        result = run_module(run_journal.main, {"path": str(journal), "entry": entry, "redact": [DB_PASSWORD, "other"]},
                            check_mode=check_mode)
        assert result["failed"] is True
        assert result["msg"].startswith("Refusing to journal a secret: entry.checks[0].message contains a value")
        assert DB_PASSWORD not in json.dumps(result)
        assert _keys(result) == RESULT_KEYS
    assert not journal.exists()


def test_entry_without_secret_passes_redaction(journal: Path) -> None:
    result = run_module(run_journal.main, {"path": str(journal), "entry": ENTRY, "redact": [DB_PASSWORD]})
    assert result["changed"] is True
    assert DB_PASSWORD not in journal.read_text(encoding="utf-8")


def test_secrets_from_the_env_file_are_masked_when_asked(journal: Path, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"NODE_ENV=production\nDATABASE_URL=postgresql://app:{DB_PASSWORD}%2Fx@db:5432/nekomorto\n"
        "SESSION_SECRET=session-secret-0123456789-abcdefghij\nMY_API=opaque-value-1\nPORT=3000\n",
        encoding="utf-8",
    )
    error = (f"psql: password pw {DB_PASSWORD}/x rejected; url postgresql://app:{DB_PASSWORD}%2Fx@db:5432/nekomorto; "
             "cookie session-secret-0123456789-abcdefghij; opaque-value-1; production on 3000")
    entry = {**ENTRY, "error": error, "duration_s": 3000}
    base = {"path": str(journal), "entry": entry, "secrets_env_file": str(env_file)}
    refused = run_module(run_journal.main, base)
    assert refused["failed"] is True and "entry.error" in refused["msg"] and not journal.exists()

    result = run_module(run_journal.main, {**base, "on_secret": "mask", "secret_names": ["MY_API"]})
    assert result["changed"] is True and result["masked"] == ["entry.error"]
    written = journal.read_text(encoding="utf-8")
    for secret in (DB_PASSWORD, "session-secret-0123456789", "opaque-value-1"):
        assert secret not in written and secret not in json.dumps(result)
    line = _lines(journal)[0]
    # Short and public values stay readable; the number is not a secret.
    assert line["error"] == "psql: password pw ******** rejected; url ********; cookie ********; ********; production on 3000"
    assert line["duration_s"] == 3000


def test_the_host_log_never_gets_the_entry(journal: Path, tmp_path: Path) -> None:
    # AnsibleModule logs its arguments on the host (syslog, journald) before the module reads the env file.
    env_file = tmp_path / ".env"
    env_file.write_text("SESSION_SECRET=session-secret-0123456789-abcdefghij\n", encoding="utf-8")
    logged: list[str] = []
    entry = {**ENTRY, "error": "cookie session-secret-0123456789-abcdefghij rejected"}
    with mock.patch.object(basic.AnsibleModule, "log", lambda _module, msg, log_args=None: logged.append(msg)):
        result = run_module(run_journal.main, {"path": str(journal), "entry": entry, "on_secret": "mask",
                                               "secrets_env_file": str(env_file)})
    assert result["changed"] is True
    assert not any("session-secret-0123456789" in message for message in logged), logged


def test_a_missing_env_file_adds_no_secret(journal: Path, tmp_path: Path) -> None:
    result = run_module(run_journal.main, {"path": str(journal), "entry": ENTRY, "on_secret": "mask",
                                           "secrets_env_file": str(tmp_path / "absent.env")})
    assert result["changed"] is True and result["masked"] == [] and _lines(journal)[0]["release"] == "v2.3.0"


def test_ts_is_reserved(journal: Path) -> None:
    result = run_module(run_journal.main, {"path": str(journal), "entry": {"ts": "yesterday"}})
    assert result["failed"] is True and "must not set 'ts'" in result["msg"]


def test_bad_lines_are_skipped_with_a_warning(journal: Path) -> None:
    journal.write_text('{"n": 1}\n{broken\n', encoding="utf-8")
    result = run_module(run_journal.main, {"path": str(journal), "tail": 5})
    assert result["entries"] == [{"n": 1}]
    assert any("Skipped 1 line(s)" in warning for warning in result["warnings"])


def test_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.jsonl"
    failed = run_module(run_journal.main, {"path": str(path), "entry": ENTRY})
    assert failed["failed"] is True and "does not exist" in failed["msg"]
    planned = run_module(run_journal.main, {"path": str(path), "entry": ENTRY}, check_mode=True)
    assert planned["changed"] is True


def test_unknown_group_fails_but_only_warns_in_check_mode(journal: Path) -> None:
    args = {"path": str(journal), "entry": ENTRY, "group": "no-such-group-nekomorto"}
    assert run_module(run_journal.main, args)["failed"] is True
    planned = run_module(run_journal.main, args, check_mode=True)
    assert planned["changed"] is True
    assert any("no-such-group-nekomorto" in warning for warning in planned["warnings"])


def test_negative_tail_is_refused(journal: Path) -> None:
    assert run_module(run_journal.main, {"path": str(journal), "tail": -1})["failed"] is True


def test_concurrent_module_runs_append_whole_lines(journal: Path, tmp_path: Path) -> None:
    """Several real module processes (as Ansible runs them, one per host fork) append at once."""
    module_file = run_journal.__file__
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    processes = []
    for writer in range(4):
        args_file = tmp_path / f"args-{writer}.json"
        entry = {"writer": writer, "pad": str(writer) * 200000}
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"path": str(journal), "entry": entry}}))
        processes.append(subprocess.Popen([sys.executable, module_file, str(args_file)], env=environment,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
        assert json.loads(stdout)["changed"] is True
    records = _lines(journal)
    assert sorted(record["writer"] for record in records) == [0, 1, 2, 3]
    assert all(record["pad"] == str(record["writer"]) * 200000 for record in records)
