# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The run journal: one JSON object per line, appended, never rewritten."""

from __future__ import annotations

import fcntl
import json
import os
import typing as t

_TAIL_BLOCK = 65536


def find_secrets(value: t.Any, secrets: t.Collection[str], path: str = "entry") -> list[str]:
    """Key paths (``entry.checks[2].message``) whose value contains one of ``secrets``.

    A dict key that contains a secret is reported as its parent's path, and the key never appears
    in any path, so the answer itself cannot leak the secret.
    """
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        return []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            if any(secret in key_text for secret in secrets):
                found.append(f"{path} (one of its keys)")
                found.extend(find_secrets(item, secrets, f"{path}.<key>"))
            else:
                found.extend(find_secrets(item, secrets, f"{path}.{key_text}"))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found.extend(find_secrets(item, secrets, f"{path}[{index}]"))
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        if any(secret in str(value) for secret in secrets):
            found.append(path)
    return found


MASK = "********"


def mask_secrets(value: t.Any, secrets: t.Collection[str]) -> t.Any:
    """``value`` with every occurrence of a secret, in strings and dict keys at any depth, replaced by MASK.

    A number whose digits hold a secret becomes the masked string."""
    ordered = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
    if not ordered:
        return value

    def mask_text(text: str) -> str:
        for secret in ordered:
            text = text.replace(secret, MASK)
        return text

    def walk(item: t.Any) -> t.Any:
        if isinstance(item, dict):
            return {mask_text(str(key)): walk(inner) for key, inner in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(inner) for inner in item]
        if isinstance(item, str):
            return mask_text(item)
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            masked = mask_text(str(item))
            return item if masked == str(item) else masked
        return item

    return walk(value)


def make_record(entry: t.Mapping[str, t.Any], ts: str) -> dict[str, t.Any]:
    """The journal line's object: the time first, then the entry's keys in their order."""
    return {"ts": ts, **entry}


def serialize_record(record: t.Mapping[str, t.Any]) -> bytes:
    # json.dumps escapes every line break inside strings, so one record is always one line.
    return (json.dumps(record, ensure_ascii=False, separators=(", ", ": "), default=str) + "\n").encode("utf-8")


def append_record(path: str, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> bool:
    """Append one line with a single write (True when the journal was created by this call).

    O_APPEND makes every write land at the end of the file, and a single write of a regular file is
    not interleaved with another process's write; the flock keeps that true on file systems that do
    not serialise appends themselves.
    """
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        created = True
    except FileExistsError:
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        created = False
    try:
        status = os.fstat(descriptor)
        if created or (mode & 0o7777) != (status.st_mode & 0o7777):
            os.fchmod(descriptor, mode)
        if (uid is not None and uid != status.st_uid) or (gid is not None and gid != status.st_gid):
            os.fchown(descriptor, -1 if uid is None else uid, -1 if gid is None else gid)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        # A line an earlier write left torn (a full disk, a crash) ends here, so this one stays whole.
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            data = b"\n" + data
        try:
            written = os.write(descriptor, data)
            if written != len(data):
                raise OSError(f"short write to {path}: {written} of {len(data)} bytes")
            os.fsync(descriptor)
        except OSError:
            # Nothing of this line stays: the next append would be glued to it.
            os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)
    return created


def _last_lines(path: str, count: int) -> list[bytes]:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            step = min(_TAIL_BLOCK, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = [line for line in data.split(b"\n") if line.strip()]
    return lines[-count:]


def read_tail(path: str, count: int) -> tuple[list[t.Any], int]:
    """The last ``count`` entries, and how many of those lines were not JSON (skipped)."""
    if count <= 0 or not os.path.exists(path):
        return [], 0
    entries = []
    skipped = 0
    for line in _last_lines(path, count):
        try:
            entries.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            skipped += 1
    return entries, skipped
