# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The uploads archive: one pass to archive and checksum, checked reading, safe extraction."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils import _uploads_archive as archive_module
from ansible_collections.nekomorto.ops.plugins.module_utils._uploads_archive import (
    ArchiveError,
    create_archive,
    format_checksum_line,
    member_name_problem,
    parse_checksum_list,
    read_archive,
)

FILES = {
    "avatar-admin.png": b"\x89PNG admin",
    "projects/4/duna-cover.png": b"\x89PNG duna",
    "posts/2026/capa final.png": b"space in the name",
    "posts/2026/ilustração.txt": "não".encode(),
    "posts/empty.bin": b"",
    "legacy/big.bin": os.urandom(300_000),
}


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    root = tmp_path / "uploads"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "empty-folder").mkdir()
    (root / "posts" / "2026" / "capa final.png").chmod(0o640)
    return root


@pytest.fixture
def archived(tmp_path: Path, uploads: Path) -> tuple[Path, Path]:
    archive, checksums = tmp_path / "uploads.tar", tmp_path / "uploads.sha256"
    create_archive(str(uploads), str(archive), str(checksums))
    return archive, checksums


def test_checksum_lines_are_sha256sum_compatible(tmp_path: Path) -> None:
    names = ["plain.png", "with space.png", "back\\slash.png", "new\nline.png"]
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    listing = "".join(format_checksum_line(hashlib.sha256(name.encode()).hexdigest(), name) for name in names)
    (tmp_path / "list").write_text(listing)
    checked = subprocess.run(["sha256sum", "--quiet", "-c", "list"], cwd=tmp_path, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert parse_checksum_list(listing) == {name: hashlib.sha256(name.encode()).hexdigest() for name in names}


@pytest.mark.parametrize(
    ("text", "message"),
    [("abc  x\n", "is not '<sha256>  <path>'"), (f"{'a' * 64}  /etc/passwd\n", "not a relative path"),
     (f"{'a' * 64}  a/../../b\n", "not a clean path"), (f"{'a' * 64}  x\n{'b' * 64}  x\n", "names x twice")],
)
def test_parse_checksum_list_refuses(text: str, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        parse_checksum_list(text)


@pytest.mark.parametrize(("name", "ok"), [("a/b.png", True), ("a", True), ("/a", False), ("a/../b", False),
                                          ("./a", False), ("a//b", False), ("..", False), ("", False)])
def test_member_names(name: str, ok: bool) -> None:
    assert (member_name_problem(name) is None) == ok


def test_archive_holds_every_file_once_with_its_checksum(uploads: Path, tmp_path: Path) -> None:
    archive, checksums = tmp_path / "uploads.tar", tmp_path / "uploads.sha256"
    summary = create_archive(str(uploads), str(archive), str(checksums))
    assert summary.files == len(FILES) and summary.bytes == sum(len(data) for data in FILES.values())
    assert summary.directories == 6  # projects, projects/4, posts, posts/2026, legacy, empty-folder
    assert summary.archive_sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert summary.list_sha256 == hashlib.sha256(checksums.read_bytes()).hexdigest()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600 and stat.S_IMODE(checksums.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = [member.name for member in tar if member.isreg()]
    assert sorted(names) == sorted(FILES)
    checked = subprocess.run(["sha256sum", "--quiet", "-c", str(checksums)], cwd=uploads, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stdout
    assert not list(tmp_path.glob(".*.partial"))


def test_archive_refuses_to_overwrite(archived: tuple[Path, Path], uploads: Path) -> None:
    archive, checksums = archived
    with pytest.raises(ArchiveError, match="already exists"):
        create_archive(str(uploads), str(archive), str(checksums) + ".2")


def test_links_and_special_files_are_skipped(uploads: Path, tmp_path: Path) -> None:
    os.symlink("avatar-admin.png", uploads / "latest.png")
    os.mkfifo(uploads / "pipe")
    summary = create_archive(str(uploads), str(tmp_path / "a.tar"), str(tmp_path / "a.sha256"))
    assert sorted(summary.skipped) == ["latest.png (symbolic link)", "pipe (special file)"]
    assert summary.files == len(FILES)


def test_hard_linked_files_are_archived_in_full_and_restore(uploads: Path, tmp_path: Path) -> None:
    """tarfile records a second name of the same inode as a link member with no data: the archive
    sealed, and its read-back (and so every rollback to it) refused the member."""
    os.link(uploads / "legacy/big.bin", uploads / "projects/4/big-again.bin")
    archive, checksums = tmp_path / "a.tar", tmp_path / "a.sha256"
    summary = create_archive(str(uploads), str(archive), str(checksums))
    assert summary.files == len(FILES) + 1
    assert summary.checksums["projects/4/big-again.bin"] == hashlib.sha256(FILES["legacy/big.bin"]).hexdigest()
    dest = tmp_path / "restored"
    check = read_archive(str(archive), str(checksums), dest=str(dest), uid=os.getuid(), gid=os.getgid())
    assert check.problems == [] and check.files == len(FILES) + 1
    assert (dest / "projects/4/big-again.bin").read_bytes() == FILES["legacy/big.bin"]
    assert (dest / "legacy/big.bin").read_bytes() == FILES["legacy/big.bin"]


def test_gzip_archive_reads_back(uploads: Path, tmp_path: Path) -> None:
    create_archive(str(uploads), str(tmp_path / "a.tar.gz"), str(tmp_path / "a.sha256"), compression="gzip")
    check = read_archive(str(tmp_path / "a.tar.gz"), str(tmp_path / "a.sha256"))
    assert check.problems == [] and check.files == len(FILES)


def test_a_good_archive_reads_back(archived: tuple[Path, Path]) -> None:
    check = read_archive(str(archived[0]), str(archived[1]))
    assert check.problems == [] and check.files == len(FILES)


def test_extraction_restores_files_modes_and_owner(archived: tuple[Path, Path], tmp_path: Path, uploads: Path) -> None:
    dest = tmp_path / "restored"
    check = read_archive(str(archived[0]), str(archived[1]), dest=str(dest), uid=os.getuid(), gid=os.getgid())
    assert check.problems == []
    for name, data in FILES.items():
        assert (dest / name).read_bytes() == data
    assert stat.S_IMODE((dest / "posts/2026/capa final.png").stat().st_mode) == 0o640
    assert (dest / "empty-folder").is_dir()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert int((dest / "avatar-admin.png").stat().st_mtime) == int((uploads / "avatar-admin.png").stat().st_mtime)


def test_extraction_refuses_an_existing_destination(archived: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "exists").mkdir()
    with pytest.raises(ArchiveError, match="already exists"):
        read_archive(str(archived[0]), str(archived[1]), dest=str(tmp_path / "exists"))


def _rewrite(archive: Path, change) -> None:
    with tarfile.open(archive) as original:
        members = [(member, original.extractfile(member).read() if member.isreg() else None) for member in original]
    output = io.BytesIO()
    with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as rebuilt:
        for member, data in change(members):
            rebuilt.addfile(member, io.BytesIO(data) if data is not None else None)
    archive.write_bytes(output.getvalue())


def _tamper(members):
    for member, data in members:
        if member.name == "avatar-admin.png":
            data = b"\x89PNG evil!"
        yield member, data


def _drop(members):
    return [(member, data) for member, data in members if member.name != "avatar-admin.png"]


def _add(members):
    extra = tarfile.TarInfo("intruder.png")
    extra.size = 3
    return list(members) + [(extra, b"abc")]


def _escape(members):
    evil = tarfile.TarInfo("../../etc/cron.d/evil")
    evil.size = 3
    return [(evil, b"abc")] + list(members)


def _link(members):
    link = tarfile.TarInfo("link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    return list(members) + [(link, None)]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_tamper, "avatar-admin.png does not match its sha256 in the list"),
        (_drop, "avatar-admin.png is listed but not in the archive"),
        (_add, "intruder.png is in the archive but not in the checksum list"),
        (_escape, "is not a clean path inside the archive"),
        (_link, "link is not a plain file or folder (refused)"),
    ],
    ids=["tampered", "missing", "added", "path-escape", "symlink"],
)
def test_a_tampered_archive_is_refused_and_nothing_extracted(archived: tuple[Path, Path], tmp_path: Path, change, problem) -> None:
    archive, checksums = archived
    _rewrite(archive, change)
    assert any(problem in item for item in read_archive(str(archive), str(checksums)).problems)
    dest = tmp_path / "restored"
    check = read_archive(str(archive), str(checksums), dest=str(dest))
    assert any(problem in item for item in check.problems)
    assert not dest.exists()
    assert not (tmp_path / "etc").exists()


def test_a_truncated_archive_is_refused(archived: tuple[Path, Path], tmp_path: Path) -> None:
    archive, checksums = archived
    os.truncate(archive, archive.stat().st_size // 2)
    check = read_archive(str(archive), str(checksums), dest=str(tmp_path / "restored"))
    assert any("damaged or truncated" in item or "is listed but not in the archive" in item for item in check.problems)
    assert not (tmp_path / "restored").exists()


def test_a_missing_archive_is_an_error(archived: tuple[Path, Path]) -> None:
    with pytest.raises(ArchiveError, match="does not exist"):
        read_archive(str(archived[0]) + ".nope", str(archived[1]))


def test_extraction_stays_inside_dest_when_dest_is_swapped_for_a_link(
    archived: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever owns the folder around dest renames dest and leaves a link to elsewhere in its place after
    the first file: the following members still land in the real (renamed) folder, nothing elsewhere."""
    dest, moved, elsewhere = tmp_path / "restored", tmp_path / "moved-away", tmp_path / "elsewhere"
    elsewhere.mkdir()
    real_copy = archive_module._copy_member
    modes = []

    def copy_then_swap(source, target):
        if not moved.exists():
            modes.append(stat.S_IMODE(os.lstat(dest).st_mode))
            dest.rename(moved)
            dest.symlink_to(elsewhere)
        return real_copy(source, target)

    monkeypatch.setattr(archive_module, "_copy_member", copy_then_swap)
    check = read_archive(str(archived[0]), str(archived[1]), dest=str(dest))
    assert check.problems == []
    assert modes == [0o700]  # root-only while it is written
    assert list(elsewhere.iterdir()) == []
    for name, data in FILES.items():
        assert (moved / name).read_bytes() == data


def test_a_file_replaced_by_a_link_while_archiving_is_not_followed(
    uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "root-only.txt"
    secret.write_bytes(b"not for the archive")
    target = uploads / "avatar-admin.png"
    real_lstat = os.lstat

    def lstat_then_swap(path, *args, **kwargs):
        result = real_lstat(path, *args, **kwargs)
        if str(path) == str(target) and not target.is_symlink():
            target.unlink()
            target.symlink_to(secret)
        return result

    monkeypatch.setattr(archive_module.os, "lstat", lstat_then_swap)
    summary = create_archive(str(uploads), str(tmp_path / "uploads.tar"), str(tmp_path / "uploads.sha256"))
    assert "avatar-admin.png (replaced while archiving)" in summary.skipped
    with tarfile.open(tmp_path / "uploads.tar") as archive:
        assert "avatar-admin.png" not in archive.getnames()
        assert all(b"not for the archive" not in archive.extractfile(member).read()
                   for member in archive.getmembers() if member.isfile())


def test_a_folder_renamed_while_archiving_is_listed_as_skipped(
    uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Renamed between the listing of its parent and its own: its files are in no archive; the summary
    # says so (a rollback keeps the uploads it replaced when anything was skipped).
    real_scandir = os.scandir

    def scandir_after_rename(path, *args, **kwargs):
        if str(path) == str(uploads / "projects") and (uploads / "projects").exists():
            (uploads / "projects").rename(uploads / "projects-renamed")
        return real_scandir(path, *args, **kwargs)

    monkeypatch.setattr(archive_module.os, "scandir", scandir_after_rename)
    summary = create_archive(str(uploads), str(tmp_path / "uploads.tar"), str(tmp_path / "uploads.sha256"))
    assert "projects/ (folder removed or renamed while archiving, its files not archived)" in summary.skipped
    assert "projects/4/duna-cover.png" not in summary.checksums


def test_a_folder_that_cannot_be_read_stops_the_archive(uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_scandir = os.scandir

    def scandir_failing(path, *args, **kwargs):
        if str(path) == str(uploads / "posts"):
            raise OSError(5, "Input/output error", str(path))
        return real_scandir(path, *args, **kwargs)

    monkeypatch.setattr(archive_module.os, "scandir", scandir_failing)
    with pytest.raises(ArchiveError, match=r"cannot read the folder posts \(Input/output error\): nothing was archived"):
        create_archive(str(uploads), str(tmp_path / "uploads.tar"), str(tmp_path / "uploads.sha256"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["uploads"]


@pytest.mark.parametrize("change", [b"grown by an upload in progress", None], ids=["grown", "rewritten-same-size"])
def test_a_file_written_while_archiving_stops_the_archive(
    uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: bytes | None
) -> None:
    target = uploads / "legacy" / "big.bin"
    real_reader = archive_module._HashingReader

    class WrittenDuringTheCopy(real_reader):  # type: ignore[misc, valid-type]
        def read(self, *args, **kwargs):
            data = super().read(*args, **kwargs)
            if os.fstat(self.handle.fileno()).st_ino == target.stat().st_ino and not getattr(self, "_written", False):
                self._written = True
                with open(target, "r+b") as handle:
                    if change is not None:
                        handle.seek(0, os.SEEK_END)
                    handle.write(change or os.urandom(16))
            return data

    monkeypatch.setattr(archive_module, "_HashingReader", WrittenDuringTheCopy)
    with pytest.raises(ArchiveError, match="changed while it was archived"):
        create_archive(str(uploads), str(tmp_path / "uploads.tar"), str(tmp_path / "uploads.sha256"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["uploads"]
