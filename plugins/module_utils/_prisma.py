# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Prisma Migrate's bookkeeping, read without the Prisma CLI.

C(prisma migrate deploy) records each migration in the C(_prisma_migrations) table: a row is written
when a migration starts (C(started_at), C(checksum)), completed when it finishes (C(finished_at)),
and C(prisma migrate resolve --rolled-back) sets C(rolled_back_at). These helpers compare those rows
with a release's C(prisma/migrations) folder the way Prisma's schema engine does.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import posixpath
import tarfile
import typing as t
from dataclasses import dataclass, field

MIGRATIONS_TABLE = "_prisma_migrations"
MIGRATION_SCRIPT = "migration.sql"
_CHECKSUM_LENGTH = 64


class MigrationsDirError(Exception):
    """The migrations folder cannot be read."""


@dataclass
class LocalMigration:
    """A C(<timestamp>_<name>/migration.sql) folder of a release."""

    name: str
    script: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return migration_checksum(self.script)


@dataclass
class MigrationRecord:
    """One row of C(_prisma_migrations)."""

    migration_name: str
    checksum: str
    started_at: t.Any = None
    finished_at: t.Any = None
    rolled_back_at: t.Any = None
    logs: str | None = None
    applied_steps_count: int = 0

    @property
    def is_active(self) -> bool:
        """A row that still counts: not rolled back."""
        return self.rolled_back_at is None


@dataclass
class MigrationState:
    """How the database's migration history relates to the local folder."""

    table_exists: bool
    local: list[str]
    compared_with_local: bool = True
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failed_migrations: list[dict[str, t.Any]] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    missing_locally: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "table_exists": self.table_exists,
            "local": self.local,
            "applied": self.applied,
            "pending": self.pending,
            "failed_migrations": self.failed_migrations,
            "rolled_back": self.rolled_back,
            "modified": self.modified,
            "missing_locally": self.missing_locally,
        }


def migration_checksum(script: str) -> str:
    """The checksum Prisma stores: the hex SHA-256 of the script's UTF-8 text."""
    return hashlib.sha256(script.encode("utf-8")).hexdigest()


def _unpadded_hex(script: str) -> str:
    # Early Prisma versions wrote each byte without its leading zero; their rows are still accepted.
    return "".join(f"{byte:x}" for byte in hashlib.sha256(script.encode("utf-8")).digest())


def script_matches_checksum(script: str, checksum: str) -> bool:
    """Whether a stored checksum belongs to this script, as Prisma decides it.

    Prisma accepts the script as it is, with CRLF turned into LF, and with LF turned into CRLF (git may
    have changed the line endings of the checkout), and accepts old checksums written without zero
    padding.
    """
    variants = (script, script.replace("\r\n", "\n"), script.replace("\n", "\r\n"))
    legacy = bool(checksum) and len(checksum) != _CHECKSUM_LENGTH
    for variant in variants:
        candidate = _unpadded_hex(variant) if legacy else migration_checksum(variant)
        if candidate == checksum:
            return True
    return False


def read_local_migrations(migrations_dir: str) -> list[LocalMigration]:
    """The migrations of a release's folder, ordered by name as Prisma orders them.

    Each subfolder holding a C(migration.sql) is a migration; other files (C(migration_lock.toml))
    and folders without a script are not.
    """
    if not os.path.isdir(migrations_dir):
        raise MigrationsDirError(f"migrations_dir {migrations_dir} is not a directory (expected a release's prisma/migrations)")
    migrations = []
    try:
        entries = sorted(os.listdir(migrations_dir))
    except OSError as exc:
        raise MigrationsDirError(f"cannot list migrations_dir {migrations_dir}: {exc.strerror}") from None
    for entry in entries:
        script_path = os.path.join(migrations_dir, entry, MIGRATION_SCRIPT)
        if entry.startswith(".") or not os.path.isfile(script_path):
            continue
        try:
            with open(script_path, "rb") as script_file:
                raw = script_file.read()
        except OSError as exc:
            raise MigrationsDirError(f"cannot read {script_path}: {exc.strerror}") from None
        # The Prisma CLI reads the script as UTF-8 text before hashing it; invalid bytes become U+FFFD.
        migrations.append(LocalMigration(name=entry, script=raw.decode("utf-8", errors="replace")))
    return migrations


def read_archived_migrations(archive: bytes, migrations_path: str) -> list[LocalMigration]:
    """The migrations in a tar archive of a commit (C(git archive <commit> <migrations_path>)), read as
    read_local_migrations reads a folder: a migration is a C(<name>/migration.sql) directly under
    C(migrations_path), ordered by name."""
    prefix = migrations_path.strip("/") + "/"
    scripts: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if not (member.isfile() and name.startswith(prefix)):
                    continue
                folder, script = posixpath.split(name[len(prefix):])
                if script != MIGRATION_SCRIPT or not folder or "/" in folder or folder.startswith("."):
                    continue
                extracted = tar.extractfile(member)
                raw = extracted.read() if extracted else b""
                scripts[folder] = raw.decode("utf-8", errors="replace")
    except tarfile.TarError as exc:
        raise MigrationsDirError(f"cannot read the archive of {migrations_path}: {exc}") from None
    return [LocalMigration(name=name, script=scripts[name]) for name in sorted(scripts)]


def _timestamp(value: t.Any) -> t.Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _failed_entry(record: MigrationRecord) -> dict[str, t.Any]:
    return {
        "name": record.migration_name,
        "started_at": _timestamp(record.started_at),
        "applied_steps_count": record.applied_steps_count,
        "logs": record.logs,
    }


def compare_migrations(local: list[LocalMigration] | None, records: list[MigrationRecord] | None) -> MigrationState:
    """Classify every migration; C(records=None) means the C(_prisma_migrations) table does not exist.

    C(local=None) means no migrations folder was given: only the database side is classified, and
    C(pending), C(modified) and C(missing_locally) stay empty.

    A name is C(failed) while one of its rows is neither finished nor rolled back (C(migrate deploy)
    refuses to run, error P3009); otherwise C(applied) when one of its rows finished and was not rolled
    back; otherwise, when all its rows were rolled back, C(rolled_back) (deploy applies it again).
    C(pending) is what the next C(migrate deploy) would apply: local migrations neither applied nor
    failed. Records are expected in C(started_at) order.
    """
    compared = local is not None
    local = local or []
    local_names = [migration.name for migration in local]
    state = MigrationState(table_exists=records is not None, local=local_names, compared_with_local=compared)
    if records is None:
        state.pending = list(local_names)
        return state

    rows_by_name: dict[str, list[MigrationRecord]] = {}
    for record in records:
        rows_by_name.setdefault(record.migration_name, []).append(record)

    finished_rows: dict[str, MigrationRecord] = {}
    for name, rows in rows_by_name.items():
        active = [row for row in rows if row.is_active]
        unfinished = [row for row in active if row.finished_at is None]
        finished = [row for row in active if row.finished_at is not None]
        if unfinished:
            state.failed_migrations.extend(_failed_entry(row) for row in unfinished)
        elif finished:
            state.applied.append(name)
            finished_rows[name] = finished[-1]
        else:
            state.rolled_back.append(name)

    failed_names = {entry["name"] for entry in state.failed_migrations}
    local_set = set(local_names)
    state.pending = [name for name in local_names if name not in finished_rows and name not in failed_names]
    state.modified = [
        migration.name
        for migration in local
        if migration.name in finished_rows and not script_matches_checksum(migration.script, finished_rows[migration.name].checksum)
    ]
    if compared:
        state.missing_locally = [
            name for name in rows_by_name if name not in local_set and (name in finished_rows or name in failed_names)
        ]
    return state


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summarize(state: MigrationState, schema: str) -> str:
    """One sentence an operator can read in a task's output."""
    total = len(state.local)
    if not state.table_exists:
        sentence = f"No {MIGRATIONS_TABLE} table in schema {schema}: the database is not managed by Prisma yet"
        if not state.compared_with_local:
            return f"{sentence}."
        return f"{sentence}; all {_plural(total, 'local migration')} are pending."
    parts = []
    if state.failed_migrations:
        names = _names([entry["name"] for entry in state.failed_migrations])
        parts.append(f"failed: {names} (migrate deploy refuses to run, P3009, until it is resolved)")
    if state.missing_locally:
        parts.append(
            f"applied in the database but missing from the migrations folder: {_names(state.missing_locally)} (diverged history)"
        )
    if state.modified:
        parts.append(f"edited after being applied (checksum differs): {_names(state.modified)}")
    if state.pending:
        parts.append(f"{len(state.pending)} of {_plural(total, 'migration')} pending: {_names(state.pending)}")
    if not state.compared_with_local:
        parts.append(f"{_plural(len(state.applied), 'migration')} applied; pending ones unknown (no migrations folder given)")
    if not parts:
        return f"Database schema is up to date: all {_plural(total, 'migration')} applied."
    sentence = "; ".join(parts)
    return f"{sentence[0].upper()}{sentence[1:]}."


def resolve_hints(state: MigrationState) -> list[str]:
    """The two ways out of each failed migration, one line each."""
    hints = []
    for name in dict.fromkeys(entry["name"] for entry in state.failed_migrations):
        hints.append(
            f"{name}: if its changes are NOT in the database (nothing ran, or you reverted them by hand), "
            f"run `npx prisma migrate resolve --rolled-back {name}`, then deploy again to re-apply it."
        )
        hints.append(
            f"{name}: if you completed its changes by hand so the database matches the script, "
            f"run `npx prisma migrate resolve --applied {name}`; deploy then goes on with the next migration."
        )
    return hints


def read_migration_records(session: t.Any) -> list[MigrationRecord] | None:
    """The rows of C(_prisma_migrations) in the session's schema, in the order they ran; None without the table.

    C(session) is an open C(_postgres.PostgresSession).
    """
    if not session.relation_exists(MIGRATIONS_TABLE):
        return None
    rows = session.execute(session.on_table(
        "SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs, applied_steps_count"
        " FROM {} ORDER BY started_at, id",
        MIGRATIONS_TABLE,
    ))
    return [
        MigrationRecord(
            migration_name=row[0],
            checksum=row[1],
            started_at=row[2],
            finished_at=row[3],
            rolled_back_at=row[4],
            logs=row[5],
            applied_steps_count=row[6],
        )
        for row in rows
    ]
