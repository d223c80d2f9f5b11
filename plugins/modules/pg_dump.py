#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_dump
short_description: Dump the app's PostgreSQL database with pg_dump, verified, and describe what was dumped
version_added: 0.2.0
description:
  - Dumps the whole database the app's C(DATABASE_URL) names with C(pg_dump), in the custom format (one file) or
    the directory format (one file per table, written by O(jobs) parallel workers).
  - 'Before dumping: checks that C(pg_dump) is of the server''s major version or newer (an older one refuses to
    dump, so the module says which client to install), and that the destination''s file system has room for
    the database (and O(reserve_bytes)).'
  - The module opens one read-only, repeatable-read transaction, exports its snapshot and gives it to
    C(pg_dump) (C(--snapshot)), so that the row counts and the applied Prisma migrations it reports describe
    exactly the data in the dump.
  - 'Then the dump is verified: C(pg_dump) exited 0, its output is not empty, C(pg_restore --list) reads it
    back and lists data for every table counted, and with O(verify=full) C(pg_restore) reads every data block.
    Only then is it renamed from its temporary name to O(dest). On any failure the temporary name is removed; O(dest)
    appears only by that last rename, and whatever stands there is never removed.'
  - The password never appears on a command line or in the environment of C(pg_dump); it is written to a 0600
    password file in a private temporary folder, removed when the module ends.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.postgres
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the module connects, reads the facts, checks the versions and the free space, and
      reports the dump it would write without writing it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: Running the module twice with the same arguments reports C(changed=false) the second time.
    support: none
    details: Every run writes a new dump; a second run with the same O(dest) fails, since O(dest) exists.
options:
  dest:
    description:
      - Where the dump goes, for example C(/var/backups/nekomorto/20261129T031000Z/db.dump). It must not exist; its
        parent folder must. With O(format=directory) it is a folder.
      - The dump is written as C(.<name>.partial) beside it and renamed once verified. Files are 0600.
    type: path
    required: true
  format:
    description:
      - V(custom) writes one compressed file (C(pg_dump -Fc)).
      - V(directory) writes a folder with one file per table (C(pg_dump -Fd)), which O(jobs) workers write in parallel.
    type: str
    choices: [custom, directory]
    default: custom
  jobs:
    description:
      - Parallel C(pg_dump) workers with O(format=directory); each opens its own connection.
    type: int
    default: 1
  compress:
    description:
      - C(pg_dump --compress) value, for example V(6), V(gzip:9) or V(zstd:3) (methods need pg_dump 16 or newer).
      - Empty means pg_dump's default (gzip).
    type: str
    default: ""
  verify:
    description:
      - V(list) reads the dump's table of contents back with C(pg_restore --list) and checks that every table counted
        has its data in it.
      - V(full) also makes C(pg_restore) read (and decompress) every data block of the dump.
    type: str
    choices: [list, full]
    default: list
  check_free_space:
    description:
      - Refuse to start when the file system of O(dest) has less free space than the database's size on disk plus
        O(reserve_bytes).
    type: bool
    default: true
  reserve_bytes:
    description:
      - Room the free-space check also asks for, beside the database's size, for other files of the backup written on the
        same file system (the uploads archive).
    type: int
    default: 0
  reserve_paths:
    description:
      - The files that fill O(reserve_bytes) while this module runs (an uploads archive started before the dump, under its
        temporary name and its final one). What they hold already is taken from O(reserve_bytes), since the free space no
        longer includes it.
    type: list
    elements: path
    default: []
  bin_dir:
    description:
      - Folder holding C(pg_dump) and C(pg_restore), for example C(/usr/lib/postgresql/17/bin). Default, the C(PATH).
    type: path
notes:
  - The dump covers the whole database (every schema the user can read), not only Prisma's schema. Row counts are
    reported for every table; C(_prisma_migrations) is read in Prisma's schema (from the URL's C(?schema=)).
  - Connection errors say where and as whom the connection was tried and why it failed; they never contain the password.
seealso:
  - module: nekomorto.ops.pg_restore
    description: Restore such a dump into the app's database in one transaction.
  - module: nekomorto.ops.backup_manifest
    description: Record the dump in a backup's manifest.
"""

EXAMPLES = r"""
- name: Dump the app's database into a new backup folder
  nekomorto.ops.pg_dump:
    env_file: /srv/nekomorto/shared/.env
    dest: /var/backups/nekomorto/20261129T031000Z/db.dump
  become: true
  register: dump

- name: Dump with four parallel workers, reading every block back
  nekomorto.ops.pg_dump:
    env_file: /srv/nekomorto/shared/.env
    dest: /var/backups/nekomorto/20261129T031000Z/db.dir
    format: directory
    jobs: 4
    compress: "zstd:3"
    verify: full
  become: true

- name: Use the PostgreSQL 17 client of a host that has several
  nekomorto.ops.pg_dump:
    env_file: /srv/nekomorto/shared/.env
    dest: /var/backups/nekomorto/20261129T031000Z/db.dump
    bin_dir: /usr/lib/postgresql/17/bin
  become: true
"""

RETURN = r"""
dest:
  description: The dump (O(dest)).
  returned: always
  type: str
  sample: /var/backups/nekomorto/20261129T031000Z/db.dump
format:
  description: O(format).
  returned: always
  type: str
  sample: custom
jobs:
  description: Workers used (1 with the custom format).
  returned: always
  type: int
  sample: 1
size_bytes:
  description: Size of the dump (all its files with the directory format); V(0) in check mode.
  returned: always
  type: int
  sample: 2818048
sha256:
  description: SHA-256 of the dump file with the custom format; empty with the directory format and in check mode.
  returned: always
  type: str
  sample: 9b0c1d0c8e4bd5c0a8a8f3f4c1e64f09d9ee5f8a2a8b6b4b5e0e4cf0a1d2f3e4
checksums:
  description:
    - SHA-256 of every file of the dump as it was read back, by path relative to the folder of O(dest)
      (C(db.dump), or C(db.dir/toc.dat) and the data files with the directory format); empty in check mode.
    - What nekomorto.ops.backup_manifest's O(nekomorto.ops.backup_manifest#module:expect_checksums) takes, so that a
      file changed between the read-back and the manifest is refused.
  returned: always
  type: dict
  sample: {db.dump: 9b0c1d0c8e4bd5c0a8a8f3f4c1e64f09d9ee5f8a2a8b6b4b5e0e4cf0a1d2f3e4}
toc_entries:
  description: Entries in the dump's table of contents.
  returned: always
  type: int
  sample: 42
tables:
  description: Every table of the database with its exact row count, read in the dump's snapshot.
  returned: always
  type: list
  elements: dict
  contains:
    schema:
      description: The table's schema.
      type: str
    name:
      description: The table's name.
      type: str
    rows:
      description: Its rows when the dump was taken.
      type: int
  sample: [{schema: public, name: users, rows: 5}]
database:
  description: The database dumped.
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    user:
      description: The user that dumped it.
      type: str
    schema:
      description: Prisma's schema (from the URL).
      type: str
    size_bytes:
      description: C(pg_database_size), in the dump's snapshot.
      type: int
    server_version:
      description: C(string), C(major) and C(num) of the server's version.
      type: dict
  sample: {name: nekomorto, user: nekomorto_app, schema: public, size_bytes: 8532451,
           server_version: {string: "17.6 (Debian 17.6-0+deb13u1)", major: 17, num: 170006}}
migrations:
  description: Prisma's migration state in the dump's snapshot.
  returned: always
  type: dict
  contains:
    table_exists:
      description: Whether C(_prisma_migrations) exists.
      type: bool
    applied:
      description: Migrations applied and not rolled back, in the order they ran.
      type: list
      elements: str
  sample: {table_exists: true, applied: [20260101000000_init, 20260101000100_user_sessions]}
tools:
  description: The client programs used and their versions.
  returned: always
  type: dict
  sample: {pg_dump: "17.12", pg_dump_path: /usr/bin/pg_dump, pg_restore: "17.12", pg_restore_path: /usr/bin/pg_restore}
durations:
  description: Seconds spent reading the facts, dumping and verifying.
  returned: always
  type: dict
  sample: {facts: 0.05, dump: 1.92, verify: 0.11}
verify:
  description: O(verify).
  returned: always
  type: str
  sample: list
command:
  description: The C(pg_dump) command run (no secret in it); empty in check mode.
  returned: always
  type: list
  elements: str
  sample: [/usr/bin/pg_dump, --format=custom, "--file=/var/backups/nekomorto/20261129T031000Z/.db.dump.partial", "..."]
queries:
  description: The SQL statements the module ran.
  returned: always
  type: list
  elements: str
  sample: ["SET search_path TO \"public\"", "SELECT pg_catalog.pg_export_snapshot()"]
"""

import os
import shutil
import subprocess
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nekomorto.ops.plugins.module_utils._backup import BackupError, list_files, sha256_file
from ansible_collections.nekomorto.ops.plugins.module_utils._pg_tools import (
    ClientSession,
    ToolError,
    build_conninfo,
    connection_password,
    dump_version_problem,
    find_program,
    large_objects_problem,
    parse_toc,
    program_version,
    quote_ident,
    service_options,
    tail,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import (
    CONNECTION_MUTUALLY_EXCLUSIVE,
    CONNECTION_REQUIRED_ONE_OF,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    PRISMA_DEFAULT_SCHEMA,
    ConnectionSettingsError,
    DatabaseConnectError,
    DatabaseQueryError,
    PostgresSession,
    connection_argument_spec,
    connection_params_from_module_params,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._prisma import compare_migrations, read_migration_records

APPLICATION_NAME = "nekomorto.ops.pg_dump"
_USER_TABLES = (
    "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'"
    " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_class'::regclass"
    " AND d.objid = c.oid AND d.deptype = 'e')"
    " ORDER BY 1, 2"
)


def _argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = connection_argument_spec()
    spec.update(
        dest={"type": "path", "required": True},
        format={"type": "str", "choices": ["custom", "directory"], "default": "custom"},
        jobs={"type": "int", "default": 1},
        compress={"type": "str", "default": ""},
        verify={"type": "str", "choices": ["list", "full"], "default": "list"},
        check_free_space={"type": "bool", "default": True},
        reserve_bytes={"type": "int", "default": 0},
        reserve_paths={"type": "list", "elements": "path", "default": []},
        bin_dir={"type": "path"},
    )
    return spec


class SnapshotSession(PostgresSession):
    """A read-only, repeatable-read transaction whose snapshot pg_dump shares."""

    def open(self) -> None:
        super().open()
        self._connection.set_session(isolation_level="REPEATABLE READ", readonly=True, autocommit=False)

    def export_snapshot(self) -> str:
        return str(self.fetch_value("SELECT pg_catalog.pg_export_snapshot()"))


def read_facts(session: SnapshotSession) -> dict[str, t.Any]:
    """What the dump will contain, read in its snapshot: server, size, tables and their rows, migrations."""
    database, user, version, version_num, size = session.execute(
        "SELECT current_database(), current_user, current_setting('server_version'),"
        " current_setting('server_version_num')::int, pg_catalog.pg_database_size(current_database())"
    )[0]
    tables = []
    for schema, name, kind in session.execute(_USER_TABLES):
        rows = session.fetch_value(f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(name)}")
        tables.append({"schema": schema, "name": name, "kind": kind, "rows": int(rows)})
    records = read_migration_records(session)
    state = compare_migrations(None, records)
    return {
        "database": {
            "name": database,
            "user": user,
            "schema": session.params.schema,
            "size_bytes": int(size),
            "server_version": {"string": version, "major": version_num // 10000, "num": version_num},
        },
        "tables": tables,
        "migrations": {"table_exists": state.table_exists, "applied": state.applied},
    }


def _empty_result(module: AnsibleModule) -> dict[str, t.Any]:
    return {
        "changed": False,
        "dest": module.params["dest"],
        "format": module.params["format"],
        "jobs": module.params["jobs"] if module.params["format"] == "directory" else 1,
        "size_bytes": 0,
        "sha256": "",
        "checksums": {},
        "toc_entries": 0,
        "tables": [],
        "database": {"name": "", "user": "", "schema": PRISMA_DEFAULT_SCHEMA, "size_bytes": 0,
                     "server_version": {"string": "", "major": 0, "num": 0}},
        "migrations": {"table_exists": False, "applied": []},
        "tools": {},
        "durations": {},
        "verify": module.params["verify"],
        "command": [],
        "queries": [],
    }


def _checksums(path: str, name: str) -> tuple[dict[str, str], int]:
    """({name: sha256}, size) for a dump file; for a dump folder, the sha256 of each file by name/relative path,
    and their total size."""
    if os.path.isfile(path):
        files = {name: path}
    else:
        files = {f"{name}/{relative}": os.path.join(path, relative) for relative in list_files(path)}
    checksums, size = {}, 0
    for key, full in files.items():
        checksums[key], read = sha256_file(full)
        size += read
    return checksums, size


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


class Dump:
    """Read the facts in a snapshot, dump that snapshot, verify the dump, then name it."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.result = _empty_result(module)
        self.dest = os.path.abspath(self.params["dest"])
        self.partial = os.path.join(os.path.dirname(self.dest), f".{os.path.basename(self.dest)}.partial")
        self.password: str | None = None
        self.secret_options: dict[str, str] = {}
        self.session: SnapshotSession | None = None

    def fail(self, message: str) -> t.NoReturn:
        if self.session is not None:
            self.result["queries"] = self.session.queries
        self.module.fail_json(msg=message, **self.result)
        raise AssertionError("fail_json returned")  # pragma: no cover

    def run(self) -> dict[str, t.Any]:
        # Everything pg_dump and this module write is readable by its owner only.
        os.umask(0o077)
        self._check_arguments()
        try:
            connection = connection_params_from_module_params(self.params)
        except ConnectionSettingsError as exc:
            self.fail(str(exc))
        self.password = connection_password(connection)
        self.secret_options = service_options(connection)
        for secret in [self.password, *self.secret_options.values()]:
            if secret:
                self.module.no_log_values.add(secret)
        self.result["database"]["schema"] = connection.schema
        pg_dump, pg_restore = self._programs()

        started = time.monotonic()
        session = self.session = SnapshotSession(connection, self.params["connect_timeout"], APPLICATION_NAME)
        try:
            session.open()
            snapshot = session.export_snapshot()
            self.result.update(read_facts(session))
            self.result["durations"]["facts"] = round(time.monotonic() - started, 3)
            problem = dump_version_problem(
                pg_dump[1], pg_dump[0], self.result["database"]["server_version"]["string"],
                self.result["database"]["server_version"]["num"],
            )
            if problem:
                self.fail(problem)
            self._check_free_space()
            if self.module.check_mode:
                self.result["changed"] = True
                return self.result
            conninfo = build_conninfo(connection, self.params["connect_timeout"], APPLICATION_NAME)
            with ClientSession(self.password, self.secret_options) as client:
                self._dump(client, pg_dump[0], conninfo, snapshot)
                self._verify(client, pg_restore[0])
            # Named as the dump only once it is verified: a module killed before leaves only the temporary name.
            os.replace(self.partial, self.dest)
        except (DatabaseConnectError, DatabaseQueryError) as exc:
            self._cleanup()
            self.fail(str(exc))
        except (ToolError, BackupError) as exc:
            self._cleanup()
            self.fail(str(exc))
        except OSError as exc:
            # A full disk or a path changed under the module: a sentence, not a traceback.
            self._cleanup()
            self.fail(f"The dump cannot be written to {self.dest}: {exc}. Nothing was kept.")
        except BaseException:
            self._cleanup()
            raise
        finally:
            self.result["queries"] = session.queries
            session.close()
        self.result["changed"] = True
        return self.result

    def _check_arguments(self) -> None:
        if self.params["jobs"] < 1:
            self.fail("jobs must be 1 or more.")
        if self.params["reserve_bytes"] < 0:
            self.fail("reserve_bytes must be 0 or more.")
        if self.params["jobs"] > 1 and self.params["format"] != "directory":
            self.fail("jobs > 1 needs format=directory: pg_dump writes the custom format with one worker.")
        parent = os.path.dirname(self.dest)
        if not os.path.isdir(parent):
            if not self.module.check_mode:
                self.fail(f"The folder of dest, {parent}, does not exist; create it first.")
            self.module.warn(f"{parent} does not exist; assuming an earlier task creates it")
        if os.path.lexists(self.dest):
            self.fail(f"{self.dest} already exists: a dump is never overwritten. Choose a new dest.")
        if os.path.lexists(self.partial) and not self.module.check_mode:
            # Left by a run that was killed: it never counted, it is not kept.
            _remove(self.partial)

    def _programs(self) -> tuple[tuple[str, t.Any], tuple[str, t.Any]]:
        found = []
        for name in ("pg_dump", "pg_restore"):
            try:
                path = find_program(name, self.params["bin_dir"], self.module.get_bin_path)
                found.append((path, program_version(path)))
            except ToolError as exc:
                self.fail(str(exc))
        self.result["tools"] = {
            "pg_dump": str(found[0][1]), "pg_dump_path": found[0][0],
            "pg_restore": str(found[1][1]), "pg_restore_path": found[1][0],
        }
        return found[0], found[1]

    def _check_free_space(self) -> None:
        if not self.params["check_free_space"]:
            return
        existing = os.path.dirname(self.dest)
        while not os.path.isdir(existing):
            existing = os.path.dirname(existing)
        status = os.statvfs(existing)
        free = status.f_bavail * status.f_frsize
        database = self.result["database"]["size_bytes"]
        reserve = self.params["reserve_bytes"]
        for path in self.params["reserve_paths"]:
            try:
                reserve = max(0, reserve - os.path.getsize(path))
            except OSError:
                pass  # not written yet (or renamed meanwhile): still to come
        if free < database + reserve:
            also = f" and {reserve // 1048576} MiB more are still to be written beside it" if reserve > 0 else ""
            self.fail(
                f"{existing} has {free // 1048576} MiB free, the database takes {database // 1048576} MiB{also}: "
                "free some space (remove older backups; the backup role keeps backup_keep_count of them after each backup) "
                "or, when the dump is known to be smaller, call this module with check_free_space=false. Nothing was dumped."
            )

    def _dump(self, client: ClientSession, pg_dump: str, conninfo: str, snapshot: str) -> None:
        command = [pg_dump, f"--format={self.params['format']}", f"--file={self.partial}", f"--snapshot={snapshot}", "--no-password"]
        if self.params["format"] == "directory" and self.params["jobs"] > 1:
            command.append(f"--jobs={self.params['jobs']}")
        if self.params["compress"]:
            command.append(f"--compress={self.params['compress']}")
        command.append(f"--dbname={conninfo}")
        self.result["command"] = command
        started = time.monotonic()
        with open(client.path("pg_dump.stderr"), "w+b") as errors:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                                  env=client.environment(), check=False)
            errors.seek(0)
            stderr = errors.read().decode("utf-8", errors="replace")
        self.result["durations"]["dump"] = round(time.monotonic() - started, 3)
        if done.returncode != 0:
            raise ToolError(
                f"pg_dump failed (exit {done.returncode}) dumping {self.result['database']['name']}: "
                f"{tail(stderr, secret=self.password) or 'no message'}. Nothing was kept."
            )
        written = self.partial if self.params["format"] == "custom" else os.path.join(self.partial, "toc.dat")
        if not os.path.isfile(written) or os.path.getsize(written) == 0:
            raise ToolError(f"pg_dump exited 0 but wrote nothing to {self.partial}: the dump is refused. Nothing was kept.")

    def _verify(self, client: ClientSession, pg_restore: str) -> None:
        started = time.monotonic()
        listing = subprocess.run([pg_restore, "--list", self.partial], capture_output=True, env=client.environment(), check=False)
        if listing.returncode != 0:
            raise ToolError(
                f"pg_restore --list cannot read the dump back (exit {listing.returncode}): "
                f"{tail(listing.stderr.decode('utf-8', 'replace'), secret=self.password)}. The dump was removed."
            )
        toc = parse_toc(listing.stdout.decode("utf-8", errors="replace"))
        self.result["toc_entries"] = len(toc.entries)
        problem = large_objects_problem(toc)
        if problem:
            self.module.warn(f"This backup cannot be restored by nekomorto.ops.pg_restore: {problem}")
        listed = set(toc.table_data)
        missing = [f"{table['schema']}.{table['name']}" for table in self.result["tables"]
                   if table["kind"] == "r" and (table["schema"], table["name"]) not in listed]
        if missing:
            raise ToolError(
                f"the dump read back has no data for {', '.join(missing[:10])}: it is refused and was removed."
            )
        if self.params["verify"] == "full":
            with open(client.path("pg_restore.stderr"), "w+b") as errors:
                reading = subprocess.run([pg_restore, "--file=/dev/null", self.partial], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=errors, env=client.environment(), check=False)
                errors.seek(0)
                stderr = errors.read().decode("utf-8", errors="replace")
            if reading.returncode != 0:
                raise ToolError(f"pg_restore cannot read every block of the dump (exit {reading.returncode}): {tail(stderr)}. "
                                "The dump was removed.")
        self.result["checksums"], self.result["size_bytes"] = _checksums(self.partial, os.path.basename(self.dest))
        if self.params["format"] == "custom":
            self.result["sha256"] = self.result["checksums"][os.path.basename(self.dest)]
        self.result["durations"]["verify"] = round(time.monotonic() - started, 3)

    def _cleanup(self) -> None:
        # Only the temporary name is the module's own: dest appears in one rename, the last step, and
        # whatever stands there after a failure was put there by someone else.
        if not self.module.check_mode:
            _remove(self.partial)


def main() -> None:
    module = AnsibleModule(
        argument_spec=_argument_spec(),
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE,
        required_one_of=CONNECTION_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR, **_empty_result(module))
    module.exit_json(**Dump(module).run())


if __name__ == "__main__":
    main()
