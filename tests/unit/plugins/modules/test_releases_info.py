# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.releases_info on a release folder made in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.nekomorto.ops.plugins.modules import releases_info
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module

MANIFEST = ".nekomorto-release.json"


def _release(releases: Path, name: str, manifest: str | dict | None) -> Path:
    folder = releases / name
    folder.mkdir(parents=True)
    if manifest is not None:
        (folder / MANIFEST).write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return folder


def test_releases_sorted_by_build_time_with_their_state(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    _release(releases, "v1-aaa", {"status": "built", "built_at": "2026-11-30T10:00:00Z", "version": "v1"})
    _release(releases, "a-old", {"status": "built", "built_at": "2026-11-01T08:00:00Z"})
    _release(releases, "v3-ccc", {"status": "failed", "built_at": "2026-11-30T11:00:00Z"})
    _release(releases, "half", None)
    _release(releases, "torn", '{"status": "bui')
    (releases / "stray-file").write_text("not a release\n")
    (tmp_path / "current").symlink_to("releases/v1-aaa")
    (tmp_path / "elsewhere").symlink_to("/srv/other")
    result = run_module(releases_info.main, {
        "path": str(releases), "links": [str(tmp_path / name) for name in ("current", "elsewhere", "previous")]})
    assert result["changed"] is False
    assert [(release["id"], release["status"]) for release in result["releases"]] == [
        ("a-old", "built"), ("v1-aaa", "built"), ("v3-ccc", "failed"), ("half", "incomplete"), ("torn", "incomplete")]
    assert result["releases"][1]["manifest"]["version"] == "v1"
    assert result["releases"][1]["path"] == str(releases / "v1-aaa")
    assert result["releases"][4]["manifest"] is None
    assert [release["linked_from"] for release in result["releases"]] == [[], [str(tmp_path / "current")], [], [], []]
    assert result["links"] == {str(tmp_path / "current"): str(releases / "v1-aaa"),
                               str(tmp_path / "elsewhere"): "/srv/other", str(tmp_path / "previous"): None}


def test_no_release_folder_yet(tmp_path: Path) -> None:
    result = run_module(releases_info.main, {"path": str(tmp_path / "releases"), "links": [str(tmp_path / "current")]},
                        check_mode=True)
    assert result["releases"] == [] and result["links"] == {str(tmp_path / "current"): None}
    assert result.get("failed") is not True


def test_a_link_through_another_path_still_protects_its_release(tmp_path: Path) -> None:
    """current written through a linked folder (/srv -> /data/srv, say) leads to the same release."""
    real = tmp_path / "data"
    _release(real / "releases", "v1-aaa", {"status": "built", "built_at": "2026-11-30T10:00:00Z"})
    (tmp_path / "srv").symlink_to(real)
    (real / "current").symlink_to(real / "releases" / "v1-aaa")
    (real / "previous").symlink_to(tmp_path / "srv" / "releases" / "v1-aaa")
    result = run_module(releases_info.main, {"path": str(tmp_path / "srv" / "releases"),
                                             "links": [str(tmp_path / "srv" / "current"), str(real / "previous")]})
    assert result["releases"][0]["path"] == str(tmp_path / "srv" / "releases" / "v1-aaa")
    assert result["releases"][0]["linked_from"] == [str(tmp_path / "srv" / "current"), str(real / "previous")]
