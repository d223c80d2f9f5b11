# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.app_paths, run whole in a temporary directory."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import app_paths
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module, run_sequence


def _layout(root: Path) -> dict:
    me, my_group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return {"directories": [
        {"path": str(root / "app"), "mode": "0755", "owner": me},
        {"path": str(root / "app" / "shared"), "mode": "0750", "owner": str(os.getuid())},
        {"path": str(root / "app" / "shared" / "public" / "uploads"), "mode": "0777"},
    ], "group": my_group}


def _release(root: Path) -> tuple[Path, dict]:
    release = root / "releases" / "v2"
    (release / "public" / "uploads").mkdir(parents=True)
    (release / "public" / "uploads" / "from-git.txt").write_text("tracked in the repository\n")
    (release / "backups").write_text("a file where a link goes\n")
    (release / ".env").symlink_to("/somewhere/else")
    return release, {"links": {
        str(release / "public" / "uploads"): str(root / "shared" / "public" / "uploads"),
        str(release / "backups"): str(root / "shared" / "backups"),
        str(release / ".env"): str(root / "shared" / ".env"),
        str(release / "deep" / "er" / "link"): "../relative",
    }}


def test_folders_check_apply_check_apply(tmp_path: Path) -> None:
    args = _layout(tmp_path)
    results = run_sequence(app_paths.main, args)
    assert [result["changed"] for result in results] == [True, True, False, False]
    wanted = [spec["path"] for spec in args["directories"]]
    # Check mode names what it would create, the missing parent of the last folder included.
    assert results[0]["changed_paths"] == wanted[:2] + [str(tmp_path / "app" / "shared" / "public"), wanted[2]]
    assert results[1]["changed_paths"] == results[0]["changed_paths"]
    assert results[2]["changed_paths"] == [] and results[3]["changes"] == []
    modes = {path: (Path(path).stat().st_mode & 0o7777) for path in wanted}
    assert modes == {wanted[0]: 0o755, wanted[1]: 0o750, wanted[2]: 0o777}  # the umask does not apply


def test_check_mode_changes_nothing(tmp_path: Path) -> None:
    release, args = _release(tmp_path)
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    result = run_module(app_paths.main, {**_layout(tmp_path), **args}, check_mode=True)
    assert result["changed"] is True
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before
    assert (release / "public" / "uploads").is_dir() and not (release / "public" / "uploads").is_symlink()


def test_a_wrong_mode_is_corrected_and_reported(tmp_path: Path) -> None:
    args = _layout(tmp_path)
    run_module(app_paths.main, args)
    (tmp_path / "app" / "shared").chmod(0o777)
    result = run_module(app_paths.main, args)
    assert result["changed_paths"] == [str(tmp_path / "app" / "shared")]
    assert result["changes"] == [f"{tmp_path / 'app' / 'shared'}: mode 0777 -> 0750"]
    assert (tmp_path / "app" / "shared").stat().st_mode & 0o777 == 0o750


def test_links_replace_what_stands_there(tmp_path: Path) -> None:
    release, args = _release(tmp_path)
    results = run_sequence(app_paths.main, args)
    assert [result["changed"] for result in results] == [True, True, False, False]
    for path, src in args["links"].items():
        assert os.readlink(path) == src
    assert not (tmp_path / "shared").exists()  # a link's target is not created
    changes = results[1]["changes"]
    assert changes[0].endswith("a folder replaced by a link to " + str(tmp_path / "shared" / "public" / "uploads"))
    assert changes[1].endswith("a file replaced by a link to " + str(tmp_path / "shared" / "backups"))
    assert changes[2].endswith("a link replaced by a link to " + str(tmp_path / "shared" / ".env"))
    assert changes[3] == f"{release / 'deep' / 'er'}: folder created (a missing parent)"
    assert sorted(path.name for path in release.iterdir()) == [".env", "backups", "deep", "public"]


def test_nested_links_are_refused_before_anything_is_touched(tmp_path: Path) -> None:
    # public -> shared/public first; public/uploads would then be shared/public/uploads itself, and its
    # files would be removed to make room for a link to itself.
    release, shared = tmp_path / "release", tmp_path / "shared"
    (release / "public" / "uploads").mkdir(parents=True)
    (shared / "public" / "uploads").mkdir(parents=True)
    (shared / "public" / "uploads" / "cover.png").write_bytes(b"precious")
    links = {str(release / "public"): str(shared / "public"),
             str(release / "public" / "uploads"): str(shared / "public" / "uploads")}
    result = run_module(app_paths.main, {"links": links})
    assert result["failed"] is True
    assert result["msg"] == (f"links: {release / 'public' / 'uploads'} lies under the link {release / 'public'}; "
                             "links must not nest. Nothing was changed.")
    assert (shared / "public" / "uploads" / "cover.png").read_bytes() == b"precious"
    assert not (release / "public").is_symlink()


def test_a_file_where_a_folder_goes_fails_and_is_kept(tmp_path: Path) -> None:
    (tmp_path / "app").write_text("precious\n")
    result = run_module(app_paths.main, _layout(tmp_path))
    assert result["failed"] is True
    assert str(tmp_path / "app") in result["msg"] and "is not a folder (a file)" in result["msg"]
    assert (tmp_path / "app").read_text() == "precious\n"


def test_an_unknown_owner_and_a_relative_path_are_refused(tmp_path: Path) -> None:
    unknown = run_module(app_paths.main, {"directories": [
        {"path": str(tmp_path / "a"), "mode": "0755", "owner": "no-such-user-nekomorto"}]})
    assert unknown["failed"] is True and "user 'no-such-user-nekomorto' does not exist" in unknown["msg"]
    assert not (tmp_path / "a").exists()
    # Check mode: a user an earlier task would create, not created in check mode.
    predicted = run_module(app_paths.main, {"directories": [
        {"path": str(tmp_path / "a"), "mode": "0755", "owner": "no-such-user-nekomorto"}]}, check_mode=True)
    assert predicted.get("failed") is not True and predicted["changed"] is True
    assert predicted["changes"] == [f"{tmp_path / 'a'}: folder created or corrected, mode 0755, "
                                    "owner no-such-user-nekomorto:- (not on the host yet)"]
    assert not (tmp_path / "a").exists()
    relative = run_module(app_paths.main, {"links": {"releases/x": "/srv"}})
    assert relative["failed"] is True and "links: 'releases/x' is not an absolute path" in relative["msg"]
    symbolic = run_module(app_paths.main, {"directories": [{"path": str(tmp_path / "b"), "mode": "u=rwx"}]})
    assert symbolic["failed"] is True and "is not an octal mode" in symbolic["msg"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a folder's owner needs root")
def test_owner_and_group_default_to_the_top_level_ones(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    args = {"directories": [{"path": str(other), "mode": "0755"},
                            {"path": str(tmp_path / "mine"), "mode": "0755", "owner": "0", "group": "0"}],
            "owner": "65534", "group": "65534"}
    result = run_module(app_paths.main, args)
    assert result["changes"] == [f"{other}: owner root:root -> {pwd.getpwuid(65534).pw_name}:{grp.getgrgid(65534).gr_name}",
                                 f"{tmp_path / 'mine'}: folder created, mode 0755"]
    assert (other.stat().st_uid, other.stat().st_gid) == (65534, 65534)
    assert ((tmp_path / "mine").stat().st_uid, (tmp_path / "mine").stat().st_gid) == (0, 0)
