# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Backups on disk: one folder per backup, its C(manifest.json) written last.

A backup counts only when its manifest is there, readable, names the folder it is in, and lists
exactly the files of the folder with their sizes and SHA-256. These helpers write and verify such
folders and decide which ones a retention policy keeps.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import stat
import typing as t
from dataclasses import dataclass, field

from ansible_collections.nekomorto.ops.plugins.module_utils._timestamps import parse_utc

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "nekomorto.ops.backup"
MANIFEST_FORMAT_VERSION = 1
# 20261129T031000Z, or 20261129T031000Z-2 when two backups start in the same second.
BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z(?:-\d{1,4})?$")
_CHUNK = 1 << 20

STATUS_OK = "ok"
STATUS_INCOMPLETE = "incomplete"
STATUS_CORRUPT = "corrupt"


class BackupError(Exception):
    """A backup folder cannot be written or read as asked."""


def sha256_file(path: str) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def list_files(directory: str) -> list[str]:
    """Paths (relative, with C(/)) of the regular files under a folder, sorted, without the manifest.

    BackupError for anything that is neither a file nor a folder (a backup holds nothing else).
    """
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            full = os.path.join(root, name)
            relative = os.path.relpath(full, directory).replace(os.sep, "/")
            mode = os.lstat(full).st_mode
            if not stat.S_ISREG(mode):
                raise BackupError(f"{relative} in {directory} is not a regular file")
            if relative != MANIFEST_NAME:
                found.append(relative)
    return sorted(found)


def checksum_files(directory: str, names: t.Iterable[str]) -> dict[str, dict[str, t.Any]]:
    """C({name: {size, sha256}}) for files of a folder."""
    result = {}
    for name in names:
        digest, size = sha256_file(os.path.join(directory, name))
        result[name] = {"size": size, "sha256": digest}
    return result


def build_manifest(backup_id: str, content: dict[str, t.Any], files: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    """The manifest: format marker and id first, the caller's facts, the file list last."""
    reserved = {"format", "format_version", "id", "files"} & set(content)
    if reserved:
        raise BackupError(f"content must not set {', '.join(sorted(reserved))}: the module writes them")
    return {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_FORMAT_VERSION,
        "id": backup_id,
        **content,
        "files": files,
    }


def serialize_manifest(manifest: dict[str, t.Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class BackupCheck:
    """What one backup folder holds, and whether it counts."""

    id: str
    path: str
    status: str
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, t.Any] | None = None
    checksums_verified: bool = False
    size_bytes: int = 0
    created_at: str = ""
    # An incomplete folder's last write (epoch seconds): the newest change of the folder or a file in it.
    last_write: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def created(self) -> datetime.datetime | None:
        try:
            return parse_utc(self.created_at) if self.created_at else None
        except ValueError:
            return None

    def summary(self) -> dict[str, t.Any]:
        manifest = self.manifest or {}
        release = manifest.get("release") if isinstance(manifest.get("release"), dict) else {}
        return {
            "id": self.id,
            "path": self.path,
            "status": self.status,
            "problems": self.problems,
            "checksums_verified": self.checksums_verified,
            "created_at": self.created_at,
            "reason": manifest.get("reason", ""),
            "release_id": release.get("id", ""),
            "version": release.get("version", ""),
            "size_bytes": self.size_bytes,
        }


def _read_manifest(path: str) -> tuple[dict[str, t.Any] | None, str | None]:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{MANIFEST_NAME} cannot be read: {exc}"
    if not isinstance(data, dict):
        return None, f"{MANIFEST_NAME} is not a JSON object"
    return data, None


def manifest_problems(manifest: dict[str, t.Any], backup_id: str) -> list[str]:
    """What makes a manifest unusable, independently of the files."""
    problems = []
    if manifest.get("format") != MANIFEST_FORMAT:
        problems.append(f"{MANIFEST_NAME} is not a {MANIFEST_FORMAT} manifest")
    elif manifest.get("format_version") != MANIFEST_FORMAT_VERSION:
        problems.append(
            f"{MANIFEST_NAME} has format_version {manifest.get('format_version')!r}; this collection reads {MANIFEST_FORMAT_VERSION}"
        )
    if manifest.get("id") != backup_id:
        problems.append(f"{MANIFEST_NAME} names backup {manifest.get('id')!r}, not the folder's {backup_id!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        problems.append(f"{MANIFEST_NAME} lists no files")
    else:
        for name, entry in files.items():
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("size"), int)
                or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256", "")))
            ):
                problems.append(f"{MANIFEST_NAME} has no valid size and sha256 for {name}")
            elif name.startswith("/") or ".." in name.split("/"):
                problems.append(f"{MANIFEST_NAME} lists a path outside the backup: {name}")
    try:
        parse_utc(str(manifest.get("created_at", "")))
    except ValueError:
        problems.append(f"{MANIFEST_NAME} has no valid created_at")
    return problems


def _size_and_last_write(path: str, names: t.Iterable[str]) -> tuple[int, float | None]:
    """Bytes of the files and the newest change of the folder or of a file in it. A file renamed or removed
    meanwhile (a backup still running) is skipped."""
    size, newest = 0, None
    for full in [path, *(os.path.join(path, name) for name in names)]:
        try:
            info = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            size += info.st_size
        newest = info.st_mtime if newest is None else max(newest, info.st_mtime)
    return size, newest


def check_backup(path: str, checksums: bool) -> BackupCheck:
    """Verify one backup folder: manifest, file list, sizes, and with C(checksums) every SHA-256."""
    backup_id = os.path.basename(os.path.normpath(path))
    check = BackupCheck(id=backup_id, path=path, status=STATUS_CORRUPT)
    manifest, error = _read_manifest(os.path.join(path, MANIFEST_NAME))
    if error:
        check.problems.append(error)
        return check
    try:
        present = list_files(path)
    except (BackupError, OSError) as exc:
        check.problems.append(str(exc))
        return check
    if manifest is None:
        check.status = STATUS_INCOMPLETE
        check.problems.append(f"no {MANIFEST_NAME}: the backup did not finish (or is still running)")
        check.size_bytes, check.last_write = _size_and_last_write(path, present)
        return check
    check.manifest = manifest
    check.created_at = str(manifest.get("created_at", ""))
    check.problems.extend(manifest_problems(manifest, backup_id))
    if check.problems:
        return check
    listed: dict[str, dict[str, t.Any]] = manifest["files"]
    missing = sorted(set(listed) - set(present))
    unexpected = sorted(set(present) - set(listed))
    check.problems.extend(f"{name} is missing" for name in missing)
    check.problems.extend(f"{name} is not listed in the manifest" for name in unexpected)
    for name in sorted(set(listed) & set(present)):
        full = os.path.join(path, name)
        try:
            size = os.path.getsize(full)
            check.size_bytes += size
            if size != listed[name]["size"]:
                check.problems.append(f"{name} has {size} bytes, the manifest says {listed[name]['size']} (truncated or replaced)")
            elif checksums:
                digest, _size = sha256_file(full)
                if digest != listed[name]["sha256"]:
                    check.problems.append(f"{name} does not match its sha256 in the manifest (modified or damaged)")
        except OSError as exc:
            # Removed or unreadable while it was checked (retention of another run, a disk error).
            check.problems.append(f"{name} cannot be read ({exc.strerror or exc})")
    if not check.problems:
        check.status = STATUS_OK
        check.checksums_verified = checksums
    return check


def backup_folders(root: str) -> tuple[list[str], list[str]]:
    """Backup folders under root (named like backup ids), and the other entries (ignored)."""
    if not os.path.isdir(root):
        return [], []
    folders, others = [], []
    for name in sorted(os.listdir(root)):
        full = os.path.join(root, name)
        if BACKUP_ID.match(name) and os.path.isdir(full) and not os.path.islink(full):
            folders.append(full)
        elif not name.startswith("."):
            others.append(name)
    return folders, others


def newest_first(checks: list[BackupCheck]) -> list[BackupCheck]:
    """By creation time from the manifest (the id for folders without one), newest first."""
    def key(check: BackupCheck) -> tuple[str, str]:
        created = check.created()
        return (created.strftime("%Y%m%dT%H%M%S.%f") if created else check.id[:15], check.id)
    return sorted(checks, key=key, reverse=True)


def dated_in_future(checks: list[BackupCheck], now: datetime.datetime,
                    slack: datetime.timedelta = datetime.timedelta(minutes=5)) -> list[str]:
    """Ids of the good backups created more than C(slack) after C(now): taken while the clock was ahead (or it
    is behind now), they sort before the real latest one."""
    return [check.id for check in checks if check.ok and (created := check.created()) is not None and created > now + slack]


@dataclass
class RetentionPlan:
    keep: dict[str, list[str]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    left_alone: dict[str, str] = field(default_factory=dict)


def plan_retention(
    checks: list[BackupCheck],
    keep_last: int,
    keep_days: int,
    now: datetime.datetime,
    protect: t.Iterable[str] = (),
    incomplete_grace: datetime.timedelta = datetime.timedelta(0),
    new_backups: int = 0,
) -> RetentionPlan:
    """Which backups a policy keeps: the newest C(keep_last) good ones, and/or those younger than
    C(keep_days) days (a backup meeting either rule stays); the newest good backup always stays.

    C(new_backups) good backups newer than all of C(checks) are counted as if they were there (the plan of
    a backup run in check mode, which takes none): they take the first places of C(keep_last) and the
    newest of them is the newest good backup.

    Incomplete folders (no manifest: a run that failed or was killed) are removed once nothing in them
    changed for C(incomplete_grace): a younger one may be a backup still running (another run that took
    over a stale lock). Corrupt ones are never removed automatically: they are evidence, and an operator
    decides.
    """
    if keep_last < 0 or keep_days < 0 or new_backups < 0:
        raise BackupError("keep_last, keep_days and new_backups must be 0 or more")
    plan = RetentionPlan()
    protected = set(protect)
    good = [check for check in newest_first(checks) if check.ok]
    cutoff = None
    if keep_days:
        try:
            cutoff = now - datetime.timedelta(days=keep_days)
        except OverflowError:  # further back than the calendar goes ("forever"): every backup is younger
            cutoff = now.replace(year=1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    for index, check in enumerate(good, start=new_backups):
        reasons = []
        if index == 0:
            reasons.append("newest verified backup")
        if index < keep_last:
            reasons.append(f"one of the last {keep_last}")
        created = check.created()
        if cutoff is not None and created is not None and created >= cutoff:
            reasons.append(f"younger than {keep_days} days")
        if check.id in protected:
            reasons.append("in use by this run")
        if reasons:
            plan.keep[check.id] = reasons
        else:
            plan.remove.append(check.id)
    for check in checks:
        if check.status == STATUS_INCOMPLETE:
            idle = None if check.last_write is None else now.timestamp() - check.last_write
            if check.id in protected:
                plan.keep[check.id] = ["in use by this run"]
            elif idle is not None and idle < incomplete_grace.total_seconds():
                plan.keep[check.id] = [f"incomplete, written to {max(idle, 0) / 60:.0f} min ago: maybe a backup still running"]
            else:
                plan.remove.append(check.id)
        elif check.status == STATUS_CORRUPT:
            plan.left_alone[check.id] = "; ".join(check.problems) or "corrupt"
    return plan
