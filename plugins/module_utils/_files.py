# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small file helpers: owner/group/mode options, current state, atomic replacement."""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
import tempfile
import typing as t
from dataclasses import dataclass


def file_owner_argument_spec() -> dict[str, dict[str, t.Any]]:
    """The O(owner) and O(group) options (doc fragment C(nekomorto.ops.file_owner))."""
    return {
        "owner": {"type": "str"},
        "group": {"type": "str"},
    }


def parse_mode(mode: str) -> int:
    """An octal mode such as V(0600) as a number; ValueError for anything else (symbolic modes included)."""
    if not re.fullmatch(r"0?[0-7]{3,4}", mode):
        raise ValueError(f"mode {mode!r} is not an octal mode such as '0600'")
    return int(mode, 8)


def resolve_uid(owner: str | None) -> int | None:
    """The uid of a user name or number; LookupError when the host has no such user."""
    if owner is None:
        return None
    if owner.isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise LookupError(f"user {owner!r} does not exist on this host") from None


def resolve_gid(group: str | None) -> int | None:
    """The gid of a group name or number; LookupError when the host has no such group."""
    if group is None:
        return None
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise LookupError(f"group {group!r} does not exist on this host") from None


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@dataclass
class FileState:
    """What is at a path now."""

    exists: bool
    content: bytes | None = None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None

    def describe(self) -> str:
        if not self.exists or self.mode is None or self.uid is None or self.gid is None:
            return ""
        return f"mode={self.mode:04o} owner={user_name(self.uid)} group={group_name(self.gid)}"


def read_state(path: str, with_content: bool = True) -> FileState:
    """The file at ``path`` (OSError when it cannot be read, a missing file is a state)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return FileState(exists=False)
    if not stat.S_ISREG(status.st_mode):
        raise IsADirectoryError(f"{path} exists and is not a regular file")
    content = None
    if with_content:
        with open(path, "rb") as handle:
            content = handle.read()
    return FileState(True, content, stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid)


def attributes_differ(state: FileState, mode: int | None, uid: int | None, gid: int | None) -> bool:
    """Whether an existing file needs a chmod or chown (None means: keep what is there)."""
    return (
        (mode is not None and state.mode != mode)
        or (uid is not None and state.uid != uid)
        or (gid is not None and state.gid != gid)
    )


def set_attributes(path: str, mode: int | None, uid: int | None, gid: int | None) -> None:
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
    if mode is not None:
        os.chmod(path, mode)


def _fsync_directory(directory: str) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: str, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old file or the new one, never a mix.

    The temporary file lives in the same directory (a rename is atomic only within one file system)
    and gets its mode and owner before it is renamed, so the content is never readable by others.
    """
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            if uid is not None or gid is not None:
                os.fchown(handle.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
