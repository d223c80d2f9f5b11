# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The run journal's pure parts, its tail reader and concurrent appends from several processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import typing as t
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._journal import (
    append_record,
    find_secrets,
    make_record,
    mask_secrets,
    read_tail,
    serialize_record,
)

SECRET = "hunter2-secret"


@pytest.mark.parametrize(
    ("entry", "paths"),
    [
        ({"outcome": "ok", "release": "v2.3.0", "checks": [{"name": "db", "ok": True}]}, []),
        ({"outcome": f"failed: {SECRET}"}, ["entry.outcome"]),
        ({"checks": [{"name": "db"}, {"name": "x", "message": f"url={SECRET}@db"}]}, ["entry.checks[1].message"]),
        ({"nested": {"deep": {"value": SECRET}}}, ["entry.nested.deep.value"]),
        ({"args": ["--password", SECRET]}, ["entry.args[1]"]),
        ({SECRET: "value"}, ["entry (one of its keys)"]),
        ({"env": {SECRET: {"inner": SECRET}}}, ["entry.env (one of its keys)", "entry.env.<key>.inner"]),
        ({"a": SECRET, "b": [SECRET]}, ["entry.a", "entry.b[0]"]),
    ],
)
def test_find_secrets_names_key_paths(entry: dict[str, t.Any], paths: list[str]) -> None:
    found = find_secrets(entry, [SECRET, ""])
    assert found == paths
    assert not any(SECRET in path for path in found)


def test_find_secrets_in_numbers_and_not_in_booleans() -> None:
    assert find_secrets({"pin": 123456, "flag": True}, ["123456", "True"]) == ["entry.pin"]


def test_find_secrets_ignores_empty_secrets() -> None:
    assert find_secrets({"a": "anything"}, ["", ""]) == []


def test_mask_secrets_everywhere_longest_first() -> None:
    entry = {"error": "pw-long-1 and pw-long", "keys": {"pw-long": [1234567, True, "x"]}, "n": 12345678}
    masked = mask_secrets(entry, ["pw-long", "pw-long-1", "345", ""])
    assert masked == {"error": "******** and ********", "keys": {"********": ["12********67", True, "x"]}, "n": "12********678"}
    assert mask_secrets(entry, []) is entry


def test_record_puts_the_time_first_and_is_one_line() -> None:
    record = make_record({"outcome": "failed", "message": "line one\nline two", "name": "ação"}, "2026-11-29T03:10:00Z")
    assert list(record) == ["ts", "outcome", "message", "name"]
    data = serialize_record(record)
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert json.loads(data) == record
    assert "ação".encode("utf-8") in data


def test_append_creates_with_mode_then_appends(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    assert append_record(str(path), b'{"n": 1}\n', 0o640) is True
    path.chmod(0o666)
    assert append_record(str(path), b'{"n": 2}\n', 0o640) is False
    assert path.read_bytes() == b'{"n": 1}\n{"n": 2}\n'
    assert (path.stat().st_mode & 0o777) == 0o640


def test_a_line_left_torn_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2, "mess')
    append_record(str(path), b'{"n": 3}\n', 0o640)
    assert read_tail(str(path), 5) == ([{"n": 1}, {"n": 3}], 1)


def test_a_failed_write_leaves_nothing_of_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"n": 1}\n')
    real_write = os.write

    def half_write(descriptor: int, data: bytes) -> int:
        return real_write(descriptor, data[: len(data) // 2])

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(OSError, match="short write"):
        append_record(str(path), b'{"n": 2}\n', 0o640)
    monkeypatch.undo()
    assert path.read_bytes() == b'{"n": 1}\n'


def test_tail_reads_the_last_entries_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    filler = "x" * 3000
    path.write_text("".join(json.dumps({"n": index, "filler": filler}) + "\n" for index in range(100)))
    entries, skipped = read_tail(str(path), 30)
    assert [entry["n"] for entry in entries] == list(range(70, 100))
    assert skipped == 0
    assert read_tail(str(path), 0) == ([], 0)
    assert len(read_tail(str(path), 500)[0]) == 100


def test_tail_skips_lines_that_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"n": 1}\nnot json\n\n{"n": 2}\n')
    assert read_tail(str(path), 3) == ([{"n": 1}, {"n": 2}], 1)


def test_tail_of_a_missing_journal_is_empty(tmp_path: Path) -> None:
    assert read_tail(str(tmp_path / "none.jsonl"), 5) == ([], 0)


def _writer(path: str, writer: int, count: int) -> None:
    # Large records: a write that is not atomic would show up as broken lines.
    for sequence in range(count):
        record = make_record({"writer": writer, "sequence": sequence, "pad": str(writer) * 70000}, "t")
        append_record(path, serialize_record(record), 0o640)


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    writers, count = 6, 25
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_writer, args=(str(path), writer, count)) for writer in range(writers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert len(records) == writers * count
    for writer in range(writers):
        mine = [record for record in records if record["writer"] == writer]
        assert [record["sequence"] for record in mine] == list(range(count))
        assert all(record["pad"] == str(writer) * 70000 for record in mine)
