# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The deploy lock file: one JSON object naming who holds it, since when and until when."""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import tempfile
import typing as t
from dataclasses import dataclass

from ansible_collections.nekomorto.ops.plugins.module_utils._files import write_atomically
from ansible_collections.nekomorto.ops.plugins.module_utils._timestamps import format_utc, parse_utc

LOCK_FIELDS = ("holder", "run_id", "playbook", "started_at", "ttl_seconds", "expires_at")
LOCK_MODE = 0o644


def build_lock(holder: str, run_id: str, playbook: str | None, ttl_seconds: int,
               now: datetime.datetime) -> dict[str, t.Any]:
    return {
        "holder": holder,
        "run_id": run_id,
        "playbook": playbook,
        "started_at": format_utc(now),
        "ttl_seconds": ttl_seconds,
        "expires_at": format_utc(now + datetime.timedelta(seconds=ttl_seconds)),
    }


def extended_lock(lock: t.Mapping[str, t.Any], expires_at: datetime.datetime) -> dict[str, t.Any]:
    """The same lock (holder, run, start) honoured until ``expires_at``."""
    extended = dict(lock)
    extended["expires_at"] = format_utc(expires_at)
    try:
        extended["ttl_seconds"] = int((expires_at - parse_utc(str(lock.get("started_at")))).total_seconds())
    except ValueError:
        pass
    return extended


def serialize_lock(lock: t.Mapping[str, t.Any]) -> bytes:
    return (json.dumps({name: lock.get(name) for name in LOCK_FIELDS}, indent=2) + "\n").encode("utf-8")


@dataclass
class LockFile:
    """What the lock path holds: nothing, a lock, or something that is not a lock (``invalid`` says why)."""

    exists: bool
    lock: dict[str, t.Any] | None = None
    invalid: str | None = None

    def expires_at(self) -> datetime.datetime | None:
        if self.lock is None:
            return None
        try:
            return parse_utc(str(self.lock.get("expires_at")))
        except ValueError:
            return None

    def is_stale(self, now: datetime.datetime) -> bool:
        """An expired lock, or a file that is not a lock at all: nobody can be honouring it."""
        if not self.exists:
            return False
        expires_at = self.expires_at()
        return expires_at is None or expires_at <= now

    def held_by(self, run_id: str | None) -> bool:
        return run_id is not None and self.lock is not None and self.lock.get("run_id") == run_id

    def describe(self) -> str:
        if self.lock is None:
            return f"holds no valid lock ({self.invalid})"
        lock = self.lock
        playbook = lock.get("playbook") or "unknown playbook"
        return (
            f"is held by {lock.get('holder')} (playbook {playbook}, run {lock.get('run_id')}) "
            f"since {lock.get('started_at')}, until {lock.get('expires_at')}"
        )


def _parse(content: bytes) -> tuple[dict[str, t.Any] | None, str | None]:
    try:
        lock = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "not JSON"
    if not isinstance(lock, dict):
        return None, "not a JSON object"
    missing = [name for name in ("holder", "run_id", "expires_at") if name not in lock]
    if missing:
        return None, f"no {', '.join(missing)}"
    return lock, None


def read_lock(path: str) -> LockFile:
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        return LockFile(exists=False)
    lock, invalid = _parse(content)
    return LockFile(exists=True, lock=lock, invalid=invalid)


@contextlib.contextmanager
def guarded(path: str, exclusive: bool) -> t.Iterator[None]:
    """Serialise the read-decide-write steps of every lock operation on this host.

    The guard is a flock on the lock's directory, so no extra file is left behind; it is released
    when the process ends, however it ends.
    """
    descriptor = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)


def create_lock(path: str, lock: t.Mapping[str, t.Any]) -> bool:
    """Create the lock file only if there is none (False when one exists).

    The content is written in full to a temporary file first and then hard-linked to the lock path:
    the link fails when the path exists, exactly like O_EXCL, and a reader never sees a half-written lock.
    """
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), LOCK_MODE)
            handle.write(serialize_lock(lock))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise
            return _create_exclusive(path, lock)
        return True
    finally:
        os.unlink(temporary)


def _create_exclusive(path: str, lock: t.Mapping[str, t.Any]) -> bool:
    # For file systems without hard links.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, LOCK_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(serialize_lock(lock))
        handle.flush()
        os.fsync(handle.fileno())
    return True


def replace_lock(path: str, lock: t.Mapping[str, t.Any]) -> None:
    write_atomically(path, serialize_lock(lock), LOCK_MODE)


def remove_lock(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
