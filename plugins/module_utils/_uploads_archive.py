# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A folder of uploads as a tar archive plus a list of per-file SHA-256 (the C(sha256sum) format).

Each file is read once: its bytes go into the archive and into its checksum at the same time, and
the archive's own checksum is computed as it is written. Reading an archive back checks every member
against the list; extracting does the same while writing, and accepts only plain files and folders
with clean relative names, so a damaged or hostile archive can never write outside its destination.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import typing as t
import zlib
from dataclasses import dataclass, field

_CHUNK = 1 << 20
COMPRESSION_MODES = {"none": "", "gzip": "gz"}


class ArchiveError(Exception):
    """The archive cannot be written, or does not match its checksum list."""


# ---------------------------------------------------------------------------------------------
# The checksum list, as GNU sha256sum writes and checks it.

def _escape(path: str) -> tuple[str, bool]:
    escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return escaped, escaped != path


def format_checksum_line(digest: str, path: str) -> str:
    """C(<sha256>  <path>), with sha256sum's backslash prefix when the path needs escaping."""
    escaped, needs_prefix = _escape(path)
    prefix = "\\" if needs_prefix else ""
    return f"{prefix}{digest}  {escaped}\n"


def _unescape(text: str) -> str:
    result, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            result.append({"\\": "\\", "n": "\n", "r": "\r"}.get(following, following))
            index += 2
            continue
        result.append(char)
        index += 1
    return "".join(result)


def parse_checksum_list(text: str) -> dict[str, str]:
    """C({path: sha256}) from sha256sum output; ArchiveError on a malformed or duplicated line."""
    checksums: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        escaped = line.startswith("\\")
        if escaped:
            line = line[1:]
        digest, separator, path = line[:64], line[64:66], line[66:]
        if len(digest) != 64 or separator not in ("  ", " *") or not all(c in "0123456789abcdef" for c in digest):
            raise ArchiveError(f"line {number} of the checksum list is not '<sha256>  <path>'")
        if escaped:
            path = _unescape(path)
        problem = member_name_problem(path)
        if problem:
            raise ArchiveError(f"line {number} of the checksum list: {problem}")
        if path in checksums:
            raise ArchiveError(f"the checksum list names {path} twice")
        checksums[path] = digest
    return checksums


def member_name_problem(name: str) -> str | None:
    """Why a name cannot be a member of an uploads archive, or None: clean, relative, inside."""
    if not name or name.startswith("/") or "\x00" in name:
        return f"{name!r} is not a relative path"
    if posixpath.normpath(name) != name or name in (".", "..") or ".." in name.split("/"):
        return f"{name!r} is not a clean path inside the archive"
    return None


# ---------------------------------------------------------------------------------------------
# Streams that hash what goes through them.

class _HashingWriter:
    def __init__(self, handle: t.BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


class _HashingReader:
    def __init__(self, handle: t.BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


# ---------------------------------------------------------------------------------------------
# Writing.

@dataclass
class ArchiveSummary:
    files: int = 0
    directories: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)
    archive_size: int = 0
    archive_sha256: str = ""
    list_sha256: str = ""
    checksums: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "files": self.files,
            "directories": self.directories,
            "bytes": self.bytes,
            "skipped": self.skipped,
            "archive_size": self.archive_size,
            "archive_sha256": self.archive_sha256,
            "list_sha256": self.list_sha256,
        }


def _partial(path: str) -> str:
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.partial")


def _write_private(path: str) -> t.BinaryIO:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "wb")


def _walk(source: str, summary: ArchiveSummary) -> t.Iterator[tuple[str, str]]:
    """(full path, archive name) of everything under source, folders before their content, sorted.

    A folder that cannot be listed is never passed over in silence: one removed or renamed while archiving
    is listed in the skipped entries (its files are not in the archive), any other error stops the archive.
    """

    def unreadable(error: OSError) -> None:
        name = os.path.relpath(error.filename, source).replace(os.sep, "/") if error.filename else "."
        if isinstance(error, FileNotFoundError):
            summary.skipped.append(f"{name}/ (folder removed or renamed while archiving, its files not archived)")
            return
        raise ArchiveError(f"cannot read the folder {name} ({error.strerror or error}): nothing was archived")

    for root, dirs, files in os.walk(source, onerror=unreadable):
        dirs.sort()
        for name in dirs + sorted(files):
            full = os.path.join(root, name)
            yield full, os.path.relpath(full, source).replace(os.sep, "/")


def create_archive(source: str, archive_path: str, list_path: str, compression: str = "none") -> ArchiveSummary:
    """Archive source into archive_path and its checksums into list_path (both 0600, written under a
    temporary name and renamed when complete). Symbolic links and special files are skipped and listed."""
    if not os.path.isdir(source):
        raise ArchiveError(f"{source} is not a folder")
    for path in (archive_path, list_path):
        if os.path.lexists(path):
            raise ArchiveError(f"{path} already exists")
    summary = ArchiveSummary()
    partial_archive, partial_list = _partial(archive_path), _partial(list_path)
    try:
        with _write_private(partial_archive) as output:
            writer = _HashingWriter(output)
            with tarfile.open(fileobj=writer, mode=f"w|{COMPRESSION_MODES[compression]}", format=tarfile.PAX_FORMAT) as archive:
                for full, name in _walk(source, summary):
                    _add_member(archive, full, name, summary)
            output.flush()
            os.fsync(output.fileno())
        summary.archive_sha256 = writer.digest.hexdigest()
        summary.archive_size = os.path.getsize(partial_archive)
        text = "".join(format_checksum_line(summary.checksums[name], name) for name in sorted(summary.checksums))
        with _write_private(partial_list) as output:
            output.write(text.encode("utf-8", errors="surrogateescape"))
            output.flush()
            os.fsync(output.fileno())
        summary.list_sha256 = hashlib.sha256(text.encode("utf-8", errors="surrogateescape")).hexdigest()
        os.replace(partial_archive, archive_path)
        os.replace(partial_list, list_path)
    except BaseException:
        for path in (partial_archive, partial_list):
            if os.path.lexists(path):
                os.unlink(path)
        raise
    return summary


def _add_member(archive: tarfile.TarFile, full: str, name: str, summary: ArchiveSummary) -> None:
    try:
        mode = os.lstat(full).st_mode
    except FileNotFoundError:
        summary.skipped.append(f"{name} (removed while archiving)")
        return
    if stat.S_ISDIR(mode):
        info = archive.gettarinfo(full, arcname=name)
        archive.addfile(info)
        summary.directories += 1
    elif stat.S_ISREG(mode):
        # A file replaced by a link between the lstat and the open is not followed (nor archived).
        try:
            descriptor = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            summary.skipped.append(f"{name} (replaced while archiving)")
            return
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                summary.skipped.append(f"{name} (replaced while archiving)")
                return
            info = archive.gettarinfo(arcname=name, fileobj=handle)
            if info.type != tarfile.REGTYPE:
                # A hard link to a file archived before: tarfile records a link member with no data, which the
                # read-back refuses (only plain files are restored). Archived in full, as a plain file.
                info.type, info.linkname, info.size = tarfile.REGTYPE, "", os.fstat(handle.fileno()).st_size
            before = os.fstat(handle.fileno())
            reader = _HashingReader(handle)
            try:
                archive.addfile(info, reader)
            except OSError as exc:
                raise ArchiveError(f"{name} changed while it was archived ({exc}); archive in a maintenance window") from None
            # tarfile copies the size read at the start: a file written meanwhile (growing, or rewritten at the
            # same size) would be archived as a prefix or a mix whose checksum still matches the archive.
            after = os.fstat(handle.fileno())
            if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (before.st_size, before.st_mtime_ns, before.st_ctime_ns):
                raise ArchiveError(f"{name} changed while it was archived; archive in a maintenance window")
        summary.checksums[name] = reader.digest.hexdigest()
        summary.files += 1
        summary.bytes += info.size
    else:
        summary.skipped.append(f"{name} ({'symbolic link' if stat.S_ISLNK(mode) else 'special file'})")


# ---------------------------------------------------------------------------------------------
# Reading back and extracting.

@dataclass
class ArchiveCheck:
    files: int = 0
    directories: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, t.Any]:
        return {"files": self.files, "directories": self.directories, "bytes": self.bytes, "problems": self.problems}


def read_checksum_list(list_path: str) -> dict[str, str]:
    try:
        with open(list_path, "rb") as handle:
            return parse_checksum_list(handle.read().decode("utf-8", errors="surrogateescape"))
    except OSError as exc:
        raise ArchiveError(f"cannot read the checksum list {list_path}: {exc.strerror or exc}") from None


def _copy_member(source: t.BinaryIO, target: t.BinaryIO | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


def _compare(check: ArchiveCheck, expected: dict[str, str], seen: dict[str, str], limit: int = 20) -> None:
    problems = []
    for name in sorted(set(expected) - set(seen)):
        problems.append(f"{name} is listed but not in the archive")
    for name in sorted(set(seen) - set(expected)):
        problems.append(f"{name} is in the archive but not in the checksum list")
    for name in sorted(set(seen) & set(expected)):
        if seen[name] != expected[name]:
            problems.append(f"{name} does not match its sha256 in the list")
    if len(problems) > limit:
        problems = problems[:limit] + [f"and {len(problems) - limit} more differences"]
    check.problems.extend(problems)


class _Extraction:
    """Writes members under dest, refusing anything but clean files and folders.

    Every path is taken relative to a descriptor of dest opened once (no symbolic link followed), and dest
    stays root-only (0700) until everything in it is written: whoever owns the folder around dest can
    rename dest or put a link in its place, but cannot make a write land outside it.
    """

    def __init__(self, dest: str, uid: int | None, gid: int | None) -> None:
        self.dest = dest
        self.uid = uid
        self.gid = gid
        self.directories: list[tarfile.TarInfo] = []
        self.fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)

    def close(self) -> None:
        os.close(self.fd)

    def _chown(self, name: str) -> None:
        if self.uid is not None or self.gid is not None:
            os.chown(name, -1 if self.uid is None else self.uid, -1 if self.gid is None else self.gid,
                     dir_fd=self.fd, follow_symlinks=False)

    def _is_dir(self, name: str) -> bool:
        try:
            return stat.S_ISDIR(os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mode)
        except FileNotFoundError:
            return False

    def _parents(self, name: str) -> None:
        parts = posixpath.dirname(name).split("/") if posixpath.dirname(name) else []
        for index in range(len(parts)):
            parent = "/".join(parts[:index + 1])
            if not self._is_dir(parent):
                os.mkdir(parent, 0o755, dir_fd=self.fd)
                self._chown(parent)

    def directory(self, member: tarfile.TarInfo) -> None:
        self._parents(member.name)
        if not self._is_dir(member.name):
            os.mkdir(member.name, 0o700, dir_fd=self.fd)
        self.directories.append(member)

    def file(self, member: tarfile.TarInfo, source: t.BinaryIO) -> str:
        self._parents(member.name)
        descriptor = os.open(member.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=self.fd)
        with os.fdopen(descriptor, "wb") as target:
            digest, _size = _copy_member(source, target)
            os.fchmod(target.fileno(), member.mode & 0o777)
            if self.uid is not None or self.gid is not None:
                os.fchown(target.fileno(), -1 if self.uid is None else self.uid, -1 if self.gid is None else self.gid)
        os.utime(member.name, (member.mtime, member.mtime), dir_fd=self.fd, follow_symlinks=False)
        return digest

    def finish(self, dest_mode: int) -> None:
        # Deepest folders first, so a read-only folder is closed only once its content is written; dest last.
        for member in sorted(self.directories, key=lambda item: item.name.count("/"), reverse=True):
            name = member.name.rstrip("/")
            os.chmod(name, member.mode & 0o777, dir_fd=self.fd)
            self._chown(name)
            os.utime(name, (member.mtime, member.mtime), dir_fd=self.fd, follow_symlinks=False)
        os.fchmod(self.fd, dest_mode)
        if self.uid is not None or self.gid is not None:
            os.fchown(self.fd, -1 if self.uid is None else self.uid, -1 if self.gid is None else self.gid)


def read_archive(archive_path: str, list_path: str, dest: str | None = None, uid: int | None = None,
                 gid: int | None = None, dest_mode: int = 0o755) -> ArchiveCheck:
    """Check every member of the archive against the checksum list; with dest, extract while checking.

    dest must not exist. When anything does not match, dest is removed again and the problems are
    returned (ArchiveError is raised only for what prevents reading at all).
    """
    expected = read_checksum_list(list_path)
    if not os.path.isfile(archive_path):
        raise ArchiveError(f"{archive_path} does not exist or is not a file")
    check = ArchiveCheck()
    seen: dict[str, str] = {}
    extraction = None
    if dest is not None:
        if os.path.lexists(dest):
            raise ArchiveError(f"{dest} already exists")
        os.mkdir(dest, 0o700)
        extraction = _Extraction(dest, uid, gid)
    try:
        try:
            with tarfile.open(archive_path, mode="r|*") as archive:
                for member in archive:
                    problem = member_name_problem(member.name.rstrip("/") if member.isdir() else member.name)
                    if problem:
                        check.problems.append(f"archive member {problem}")
                        break
                    if member.isdir():
                        check.directories += 1
                        if extraction:
                            extraction.directory(member)
                    elif member.isreg():
                        if member.name in seen:
                            check.problems.append(f"{member.name} appears twice in the archive")
                            break
                        source = archive.extractfile(member)
                        if extraction:
                            seen[member.name] = extraction.file(member, source)
                        else:
                            seen[member.name] = _copy_member(source, None)[0]
                        check.files += 1
                        check.bytes += member.size
                    else:
                        check.problems.append(f"{member.name} is not a plain file or folder (refused)")
                        break
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            check.problems.append(f"the archive is damaged or truncated: {exc}")
        if not check.problems:
            _compare(check, expected, seen)
        if extraction and not check.problems:
            extraction.finish(dest_mode)
    except BaseException:
        if dest is not None:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        if extraction:
            extraction.close()
    if check.problems and dest is not None:
        shutil.rmtree(dest, ignore_errors=True)
    return check
