# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.edge_member and edge_members_info, run whole in a temporary members folder."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import edge_member, edge_members_info
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module, run_sequence

RESULT_KEYS = {"member", "previous", "held", "diff"}


@pytest.fixture
def members(tmp_path: Path) -> Path:
    folder = tmp_path / "nekomorto-upstream.d"
    folder.mkdir()
    return folder


def _args(members: Path, name: str = "app1", **options: t.Any) -> dict[str, t.Any]:
    return {"path": str(members / f"{name}.conf"), "name": name, **options}


def _keys(result: dict[str, t.Any]) -> set[str]:
    return set(result) - {"invocation", "warnings", "msg", "failed", "changed"}


def test_create_check_apply_check_apply(members: Path) -> None:
    args = _args(members, address="10.0.0.11", port=8080, rotation="in", parameters={"max_fails": 2})
    results = run_sequence(edge_member.main, args)
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert all(_keys(result) == RESULT_KEYS for result in results)
    text = (members / "app1.conf").read_text()
    assert "server 10.0.0.11:8080 max_fails=2;" in text.splitlines()
    assert results[1]["diff"] == {"before": "", "after": text}
    assert results[1]["previous"] is None and results[3]["previous"] == results[3]["member"]
    assert (members / "app1.conf").stat().st_mode & 0o777 == 0o644


def test_check_mode_predicts_without_writing(members: Path) -> None:
    run_module(edge_member.main, _args(members, address="10.0.0.11", port=8080, rotation="in"))
    before = (members / "app1.conf").read_text()
    result = run_module(edge_member.main, _args(members, rotation="out", reason="deploy"), check_mode=True)
    assert result["changed"] is True and result["member"]["rotation"] == "out"
    assert (members / "app1.conf").read_text() == before


def test_out_and_back_keeps_address_port_and_parameters(members: Path) -> None:
    run_module(edge_member.main, _args(members, address="10.0.0.11", port=8080, rotation="in",
                                       parameters={"max_fails": 2, "fail_timeout": "10s"}))
    original = (members / "app1.conf").read_text()
    out = run_module(edge_member.main, _args(members, rotation="out", reason="deploy"))
    assert out["changed"] and out["member"]["reason"] == "deploy"
    assert "down;" in (members / "app1.conf").read_text()
    back = run_module(edge_member.main, _args(members, rotation="in", unless_out_for=["operator"]))
    assert back["changed"] and not back["held"]
    assert (members / "app1.conf").read_text() == original


def test_held_out_for_an_operator(members: Path) -> None:
    run_module(edge_member.main, _args(members, address="10.0.0.11", port=8080, rotation="out", reason="operator"))
    result = run_module(edge_member.main, _args(members, rotation="in", unless_out_for=["operator"], port=8081))
    assert result["held"] is True
    assert result["member"]["rotation"] == "out" and result["member"]["port"] == 8081


def test_a_new_member_without_address_fails_with_a_sentence(members: Path) -> None:
    result = run_module(edge_member.main, _args(members, rotation="in"))
    assert result["failed"] and "address and port" in result["msg"]
    assert not (members / "app1.conf").exists()


def test_a_missing_folder_fails_with_a_sentence(tmp_path: Path) -> None:
    result = run_module(edge_member.main, _args(tmp_path / "absent", address="10.0.0.11", port=8080))
    assert result["failed"] and "configure the edge first" in result["msg"]
    # Check mode on an edge never configured: what the role's first run would write.
    result = run_module(edge_member.main, _args(tmp_path / "absent", address="10.0.0.11", port=8080, rotation="in"),
                        check_mode=True)
    assert not result.get("failed") and result["changed"] is True
    assert result["member"]["endpoint"] == "10.0.0.11:8080" and result["member"]["rotation"] == "in"
    assert "assuming an earlier task creates it" in " ".join(result["warnings"])
    assert not (tmp_path / "absent").exists()


def test_a_foreign_file_is_not_overwritten(members: Path) -> None:
    (members / "app1.conf").write_text("# written by hand\n")
    result = run_module(edge_member.main, _args(members, address="10.0.0.11", port=8080))
    assert result["failed"] and "not a member file" in result["msg"]
    assert (members / "app1.conf").read_text() == "# written by hand\n"


def test_info_lists_members_and_rotation(members: Path) -> None:
    run_module(edge_member.main, _args(members, "app2", address="10.0.0.12", port=8080, rotation="out", reason="new"))
    run_module(edge_member.main, _args(members, "app1", address="10.0.0.11", port=8080, rotation="in"))
    (members / "notes.txt").write_text("ignored")
    (members / "broken.conf").write_text("nonsense\n")
    result = run_module(edge_members_info.main, {"path": str(members)})
    assert result["changed"] is False and result["exists"] is True
    assert [member["name"] for member in result["members"]] == ["app1", "app2"]
    assert result["in_rotation"] == ["app1"] and result["out_of_rotation"] == ["app2"]
    assert result["members"][1]["reason"] == "new"
    assert [entry["file"] for entry in result["unreadable"]] == [str(members / "broken.conf")]


def test_info_of_a_missing_folder(tmp_path: Path) -> None:
    result = run_module(edge_members_info.main, {"path": str(tmp_path / "absent")})
    assert result["exists"] is False and result["members"] == [] and result["in_rotation"] == []
