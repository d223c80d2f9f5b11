#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_restore
short_description: Restore a pg_dump archive into the app's database in one transaction, or only verify it
version_added: 0.2.0
description:
  - Replaces the content of the app's database with a dump written by M(nekomorto.ops.pg_dump) (custom or directory
    format), in B(one transaction) run with the app's own credentials, so that the database is either entirely
    the backup's or left exactly as it was.
  - 'Inside that transaction, in order: every table, view, sequence, routine and type of the schemas the dump
    covers is dropped (the schemas themselves, and extensions, stay), so that objects created after the backup
    (a newer migration''s tables) go too; then the dump''s script (C(pg_restore) piped into C(psql)); then the
    checks: the script arrived complete (C(pg_restore) exited 0) and, with O(expect_tables), every table holds
    the number of rows the backup counted. Any error rolls everything back.'
  - With O(verify_only=true), touches nothing and only checks that C(pg_restore) and C(psql) can read the archive (the
    table of contents, and every data block) and are recent enough for it. A restore reads only the table of contents
    first; a damaged block makes the restore fail and roll back.
  - The password never appears on a command line or in the environment of C(psql); it is written to a 0600
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
    details: In check mode the module verifies the archive and the connection and reports the restore without
      running it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: Running the module twice with the same arguments reports C(changed=false) the second time.
    support: none
    details: Every run replaces the database's content again (V(changed=true)); with O(verify_only=true) it never changes anything.
options:
  src:
    description:
      - The dump, a file (custom format) or a folder (directory format).
    type: path
    required: true
  verify_only:
    description:
      - Only check that the archive is readable in full and that the client programs can restore it. The database is
        not touched; the connection is not even opened.
    type: bool
    default: false
  expect_tables:
    description:
      - The tables and row counts the backup recorded (RV(nekomorto.ops.pg_dump#module:tables)); checked inside the
        transaction, before it commits.
    type: list
    elements: dict
    default: []
  privileges:
    description:
      - Restore the dump's C(GRANT)s on the restored objects. Objects always belong to the restoring user (C(--no-owner)).
    type: bool
    default: true
  lock_timeout:
    description:
      - Seconds to wait for a lock held by another session (for example the app, still connected) before giving up;
        the transaction then rolls back and nothing changed.
    type: int
    default: 60
  bin_dir:
    description:
      - Folder holding C(pg_restore) and C(psql), for example C(/usr/lib/postgresql/17/bin). Default, the C(PATH).
    type: path
notes:
  - Why one transaction in the same database rather than a new database swapped in by rename? It needs only the
    app's own credentials (the app owns its objects; no C(CREATEDB), no superuser to end other sessions or rename
    databases), keeps the database's settings, grants and connections configuration, and PostgreSQL's
    transactional DDL makes it atomic. The price is that the restore cannot use parallel workers, and holds its
    locks until it commits; run it with the app stopped or in maintenance.
  - Schemas are never dropped or created by the dump's script (only created when missing), nor their comments and
    grants changed; extensions are left installed.
  - Connection errors say where and as whom the connection was tried and why it failed; they never contain the password.
seealso:
  - module: nekomorto.ops.pg_dump
  - module: nekomorto.ops.backup_info
    description: Verify a backup's checksums before restoring it.
"""

EXAMPLES = r"""
- name: Check that the backup's dump can be read and restored by this host's client
  nekomorto.ops.pg_restore:
    env_file: /srv/nekomorto/shared/.env
    src: /var/backups/nekomorto/20261129T031000Z/db.dump
    verify_only: true
  become: true

- name: Restore it, checking the row counts recorded in its manifest before committing
  nekomorto.ops.pg_restore:
    env_file: /srv/nekomorto/shared/.env
    src: /var/backups/nekomorto/20261129T031000Z/db.dump
    expect_tables: "{{ manifest.database.tables }}"
  become: true
"""

RETURN = r"""
src:
  description: O(src).
  returned: always
  type: str
  sample: /var/backups/nekomorto/20261129T031000Z/db.dump
format:
  description: The archive's format, as its header says (C(CUSTOM), C(DIRECTORY)); empty if unreadable.
  returned: always
  type: str
  sample: CUSTOM
toc_entries:
  description: Entries in the archive's table of contents.
  returned: always
  type: int
  sample: 42
dumped_by:
  description: Version of the pg_dump that wrote the archive.
  returned: always
  type: str
  sample: "17.12"
dumped_from:
  description: Version of the server the archive was dumped from.
  returned: always
  type: str
  sample: "17.12"
schemas:
  description: Schemas whose content the restore replaces (or would replace).
  returned: always
  type: list
  elements: str
  sample: [public]
tables_checked:
  description: Tables whose row count was checked inside the transaction.
  returned: always
  type: int
  sample: 7
tools:
  description: The client programs used and their versions.
  returned: always
  type: dict
  sample: {pg_restore: "17.12", pg_restore_path: /usr/bin/pg_restore, psql: "17.12", psql_path: /usr/bin/psql}
durations:
  description: Seconds spent verifying the archive and restoring it.
  returned: always
  type: dict
  sample: {verify: 0.21, restore: 3.4}
database_unchanged:
  description:
    - Whether the module knows the database was left as it was. V(true) when it failed before the restore
      started, or when the restore failed and its transaction was rolled back; V(false) once the restore ran,
      and when its outcome is unknown (psql lost its connection or was killed, the pipeline did not report).
  returned: always
  type: bool
  sample: true
command:
  description: The C(pg_restore) and C(psql) commands run (no secret in them); empty when nothing was restored.
  returned: always
  type: list
  elements: list
  sample: [[/usr/bin/pg_restore, --no-owner, "--use-list=...", --file=-, /var/backups/nekomorto/20261129T031000Z/db.dump],
           [/usr/bin/psql, -X, -q, --no-password, --single-transaction, "..."]]
"""

import os
import subprocess
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nekomorto.ops.plugins.module_utils._pg_tools import (
    RESTORE_COMPLETE_MARKER,
    ArchiveToc,
    ClientSession,
    ToolError,
    build_conninfo,
    check_restored_sql,
    clean_schemas_sql,
    connection_password,
    find_program,
    large_objects_problem,
    parse_toc,
    program_version,
    restore_use_list,
    restore_version_problem,
    service_options,
    tail,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import (
    CONNECTION_MUTUALLY_EXCLUSIVE,
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    ConnectionSettingsError,
    DatabaseConnectError,
    PostgresSession,
    connection_argument_spec,
    connection_params_from_module_params,
)

APPLICATION_NAME = "nekomorto.ops.pg_restore"
# pg_restore writes the script, psql runs it in one transaction between the cleanup and the checks.
# The completion marker follows the script only when pg_restore exited 0, so a script cut short never
# passes the checks, whatever psql made of its end. Both exit codes are reported.
_PIPELINE = r"""
count=$1; shift
restore=("${@:1:$count}"); shift "$count"
{ "${restore[@]}" 2>"$NEKOMORTO_RESTORE_ERRORS" && printf '%s\n' "$NEKOMORTO_RESTORE_MARKER"; } \
  | "$@" >/dev/null 2>"$NEKOMORTO_PSQL_ERRORS"
codes=("${PIPESTATUS[@]}")
printf 'pipeline %s %s\n' "${codes[0]}" "${codes[1]}"
"""


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = connection_argument_spec()
    spec.update(
        src={"type": "path", "required": True},
        verify_only={"type": "bool", "default": False},
        expect_tables={"type": "list", "elements": "dict", "default": []},
        privileges={"type": "bool", "default": True},
        lock_timeout={"type": "int", "default": 60},
        bin_dir={"type": "path"},
    )
    return spec


def _empty_result(module: AnsibleModule) -> dict[str, t.Any]:
    return {
        "changed": False,
        "database_unchanged": True,
        "src": module.params["src"],
        "format": "",
        "toc_entries": 0,
        "dumped_by": "",
        "dumped_from": "",
        "schemas": [],
        "tables_checked": 0,
        "tools": {},
        "durations": {},
        "command": [],
    }


def _error_lines(text: str, secret: str | None) -> str:
    """psql's ERROR/FATAL lines (what went wrong), else its last lines."""
    errors = [line for line in text.splitlines() if "ERROR:" in line or "FATAL:" in line]
    return tail("\n".join(errors) if errors else text, lines=6, secret=secret)


class Restore:
    """Verify the archive, then stream pg_restore's script into one psql transaction between the cleanup and the checks."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.result = _empty_result(module)
        self.password: str | None = None
        self.secret_options: dict[str, str] = {}
        self.pg_restore_version: t.Any = None

    def fail(self, message: str) -> t.NoReturn:
        self.module.fail_json(msg=message, **self.result)
        raise AssertionError("fail_json returned")  # pragma: no cover

    def run(self) -> dict[str, t.Any]:
        os.umask(0o077)
        if not os.path.exists(self.params["src"]):
            self.fail(f"{self.params['src']} does not exist.")
        if self.params["lock_timeout"] < 1:
            self.fail("lock_timeout must be 1 second or more.")
        self._check_expected_tables()
        pg_restore, psql = self._programs()
        try:
            with ClientSession(None) as reader:
                toc = self._verify(reader, pg_restore)
        except ToolError as exc:
            self.fail(str(exc))
        if self.params["verify_only"]:
            return self.result

        try:
            connection = connection_params_from_module_params(self.params)
        except ConnectionSettingsError as exc:
            self.fail(str(exc))
        self.password = connection_password(connection)
        self.secret_options = service_options(connection)
        for secret in [self.password, *self.secret_options.values()]:
            if secret:
                self.module.no_log_values.add(secret)
        # Fails early, with the same clear wording as the other modules, when the database cannot be reached.
        probe = PostgresSession(connection, self.params["connect_timeout"], APPLICATION_NAME)
        try:
            probe.open()
        except DatabaseConnectError as exc:
            self.fail(f"{exc}. Nothing was restored.")
        finally:
            probe.close()
        self.result["changed"] = True
        if self.module.check_mode:
            return self.result
        try:
            conninfo = build_conninfo(connection, self.params["connect_timeout"], APPLICATION_NAME)
            with ClientSession(self.password, self.secret_options) as client:
                self._restore(client, toc, pg_restore, psql, conninfo)
        except ToolError as exc:
            self.result["changed"] = False
            self.fail(str(exc))
        return self.result

    def _check_expected_tables(self) -> None:
        for table in self.params["expect_tables"]:
            if not isinstance(table.get("schema"), str) or not isinstance(table.get("name"), str):
                self.fail("each item of expect_tables needs a schema and a name (as pg_dump's tables return them).")
            try:
                int(table.get("rows"))
            except (TypeError, ValueError):
                self.fail(f"expect_tables: {table.get('schema')}.{table.get('name')} has no row count (rows).")

    def _programs(self) -> tuple[str, str]:
        paths = {}
        for name in ("pg_restore", "psql"):
            try:
                path = find_program(name, self.params["bin_dir"], self.module.get_bin_path)
                version = program_version(path)
            except ToolError as exc:
                self.fail(str(exc))
            paths[name] = path
            if name == "pg_restore":
                self.pg_restore_version = version
            self.result["tools"][name] = str(version)
            self.result["tools"][f"{name}_path"] = path
        return paths["pg_restore"], paths["psql"]

    def _verify(self, reader: ClientSession, pg_restore: str) -> ArchiveToc:
        started = time.monotonic()
        src = self.params["src"]
        listing = subprocess.run([pg_restore, "--list", src], capture_output=True, env=reader.environment(), check=False)
        if listing.returncode != 0:
            raise ToolError(
                f"pg_restore cannot read {src} (exit {listing.returncode}): "
                f"{tail(listing.stderr.decode('utf-8', 'replace'))}. The archive is damaged or not a pg_dump archive; "
                "nothing was restored."
            )
        toc = parse_toc(listing.stdout.decode("utf-8", errors="replace"))
        self.result.update(
            format=toc.header.get("Format", ""),
            toc_entries=len(toc.entries),
            dumped_by=str(toc.dumped_by) if toc.dumped_by else "",
            dumped_from=toc.dumped_from,
            schemas=toc.schemas,
        )
        if not toc.entries:
            raise ToolError(f"{src} has an empty table of contents: there is nothing to restore; nothing was restored.")
        problem = restore_version_problem(self.pg_restore_version, pg_restore, toc.dumped_by) or large_objects_problem(toc)
        if problem:
            raise ToolError(f"{problem} Nothing was restored.")
        # A restore needs no read-back: a script cut short never commits (see _PIPELINE).
        if self.params["verify_only"]:
            self._read_every_block(reader, pg_restore)
        self.result["durations"]["verify"] = round(time.monotonic() - started, 3)
        return toc

    def _read_every_block(self, reader: ClientSession, pg_restore: str) -> None:
        src = self.params["src"]
        with open(reader.path("read.stderr"), "w+b") as errors:
            reading = subprocess.run([pg_restore, "--file=/dev/null", src], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=errors, env=reader.environment(), check=False)
            errors.seek(0)
            stderr = errors.read().decode("utf-8", errors="replace")
        if reading.returncode != 0:
            raise ToolError(
                f"pg_restore cannot read every block of {src} (exit {reading.returncode}): {tail(stderr)}. "
                "The archive is truncated or damaged; nothing was restored."
            )

    def _restore(self, client: ClientSession, toc: ArchiveToc, pg_restore: str, psql: str, conninfo: str) -> None:
        started = time.monotonic()
        use_list, prelude, postlude = client.path("use.list"), client.path("clean.sql"), client.path("check.sql")
        with open(use_list, "w", encoding="utf-8") as handle:
            handle.write(restore_use_list(toc))
        with open(prelude, "w", encoding="utf-8") as handle:
            handle.write("SET client_min_messages = warning;\n")
            handle.write(clean_schemas_sql(toc.schemas, self.params["lock_timeout"]))
        with open(postlude, "w", encoding="utf-8") as handle:
            handle.write(check_restored_sql(self.params["expect_tables"]))
        self.result["tables_checked"] = len(self.params["expect_tables"])

        restore_command = [pg_restore, "--no-owner", f"--use-list={use_list}", "--file=-", self.params["src"]]
        if not self.params["privileges"]:
            restore_command.insert(2, "--no-privileges")
        psql_command = [psql, "-X", "-q", "--no-password", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                        f"--dbname={conninfo}", "-f", prelude, "-f", "-", "-f", postlude]
        self.result["command"] = [restore_command, psql_command]
        restore_errors, psql_errors = client.path("pg_restore.stderr"), client.path("psql.stderr")
        client.clear_pg_environment()
        self.result["database_unchanged"] = False
        rc, stdout, stderr = self.module.run_command(
            ["bash", "-c", _PIPELINE, "nekomorto-ops-restore", str(len(restore_command)), *restore_command, *psql_command],
            environ_update={
                **client.environment_update(),
                "NEKOMORTO_RESTORE_ERRORS": restore_errors,
                "NEKOMORTO_PSQL_ERRORS": psql_errors,
                "NEKOMORTO_RESTORE_MARKER": RESTORE_COMPLETE_MARKER.strip(),
            },
            check_rc=False,
        )
        codes = [line.split() for line in stdout.splitlines() if line.startswith("pipeline ")]
        if rc != 0 or not codes:
            raise ToolError(f"the restore pipeline could not run (exit {rc}): {tail(stderr, secret=self.password)}")
        restore_code, psql_code = int(codes[-1][1]), int(codes[-1][2])
        restore_stderr = _read_text(restore_errors)
        psql_stderr = _read_text(psql_errors)
        self.result["durations"]["restore"] = round(time.monotonic() - started, 3)
        if psql_code == 0 and restore_code == 0:
            return
        # psql's exit 1 (its own fatal error) and 3 (a statement failed, ON_ERROR_STOP) end the transaction
        # uncommitted; 2 (the connection went bad) and a psql killed by a signal (128 and more) may have
        # come after its COMMIT was sent.
        if psql_code not in (0, 1, 3):
            what = "lost its connection" if psql_code == 2 else "was stopped"
            raise ToolError(
                f"psql {what} while restoring (exit {psql_code}): {_error_lines(psql_stderr, self.password) or 'no message'}. "
                "If this happened while committing, the outcome is unknown: check the database before going on."
            )
        reasons = []
        if restore_code != 0:
            reasons.append(f"pg_restore failed (exit {restore_code}): {tail(restore_stderr, lines=6, secret=self.password)}")
        if psql_code != 0:
            reasons.append(f"psql stopped (exit {psql_code}): {_error_lines(psql_stderr, self.password)}")
        self.result["database_unchanged"] = True
        raise ToolError(
            f"The restore of {self.params['src']} failed and its transaction was rolled back: the database is "
            f"unchanged. {' '.join(reasons)}"
        )


def main() -> None:
    module = AnsibleModule(
        argument_spec=_argument_spec(),
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    if not module.params["verify_only"] and not (module.params["database_url"] or module.params["env_file"]):
        module.fail_json(msg="one of the following is required: database_url, env_file", **_empty_result(module))
    if not HAS_PSYCOPG2 and not module.params["verify_only"]:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR, **_empty_result(module))
    module.exit_json(**Restore(module).run())


if __name__ == "__main__":
    main()
