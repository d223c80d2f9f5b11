#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: prisma_migrations_info
short_description: Read Prisma's migration state from the database and compare it with a release's migrations
version_added: 0.1.0
description:
  - Reads the C(_prisma_migrations) table directly (no Node.js, no Prisma CLI, no schema engine needed) and
    compares it with a release's C(prisma/migrations) folder.
  - Tells which migrations are applied, pending (what the next C(prisma migrate deploy) applies), failed
    (they block C(migrate deploy) with error P3009), rolled back, edited after being applied, and applied in the
    database but missing from the folder (diverged history).
  - For each failed migration, explains the two C(prisma migrate resolve) choices.
  - Checksums are compared as Prisma compares them (SHA-256 of the script, line-ending agnostic).
  - The module only reads, in a read-only session; it reports C(changed=false) and runs for real in check mode.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
  - nekomorto.ops.postgres
  - nekomorto.ops.postgres.READ_ONLY
options:
  migrations_dir:
    description:
      - The release's migrations folder, on the managed host, for example C(/srv/nekomorto/releases/<id>/prisma/migrations).
      - Each subfolder holding a C(migration.sql) is a migration; they are ordered by name.
      - When omitted (for example in a preflight, before the release exists), only the database side is read, so
        RV(applied), RV(failed_migrations) and RV(rolled_back) are filled, and RV(local), RV(pending), RV(modified)
        and RV(missing_locally) stay empty.
    type: path
  migrations_git_dir:
    description:
      - Instead of O(migrations_dir), a git repository on the managed host (the deploy's bare mirror) holding the
        release's commit; the migrations are read from O(migrations_git_commit) without checking anything out,
        for example to tell in check mode what a release that is not built yet would meet.
    type: path
  migrations_git_commit:
    description: The commit (or tag) whose migrations O(migrations_git_dir) gives.
    type: str
  migrations_git_path:
    description: Where the migrations are inside the repository.
    type: str
    default: prisma/migrations
  fail_on_unreachable:
    description:
      - Fail when the database cannot be reached.
      - With V(false), the module returns RV(database_reachable=false) and the reason in RV(summary) instead, for
        example to decide whether a database still has to be created.
    type: bool
    default: true
notes:
  - A migration is V(failed) while one of its rows is neither finished nor rolled back; V(applied) when a row
    finished and was not rolled back; V(rolled_back) when every row of it was rolled back (C(migrate deploy) applies
    it again, so a local one is pending too).
  - RV(modified) compares the folder's script with the row of the last successful run, so a migration edited,
    rolled back and re-applied is not reported.
  - Rolled-back rows without a local folder are not reported as missing locally, since they block nothing.
seealso:
  - module: nekomorto.ops.app_database_info
    description: Reachability, version, size and session table of the same database.
"""

EXAMPLES = r"""
- name: Read the migration state of the release about to be deployed
  nekomorto.ops.prisma_migrations_info:
    env_file: /srv/nekomorto/shared/.env
    migrations_dir: "/srv/nekomorto/releases/{{ release_id }}/prisma/migrations"
  become: true
  register: migrations
  check_mode: false

- name: Check, before anything is deployed, that no migration is left failed
  nekomorto.ops.prisma_migrations_info:
    env_file: /srv/nekomorto/shared/.env
  become: true
  register: migrations_before
  failed_when: migrations_before.failed_migrations | length > 0

- name: Stop before migrating when a migration failed or the history diverged
  ansible.builtin.assert:
    that:
      - migrations.failed_migrations | length == 0
      - migrations.missing_locally | length == 0
    fail_msg: "{{ migrations.summary }} {{ migrations.resolve_hints | join(' ') }}"

- name: Migrate only when something is pending
  ansible.builtin.command: npx prisma migrate deploy
  args:
    chdir: "/srv/nekomorto/releases/{{ release_id }}"
  when: migrations.pending | length > 0
  changed_when: true
"""

RETURN = r"""
database_reachable:
  description: Whether the connection succeeded. V(false) only with O(fail_on_unreachable=false).
  returned: always
  type: bool
  sample: true
schema:
  description: The schema read, from the URL's C(?schema=) (Prisma's default V(public)).
  returned: always
  type: str
  sample: public
table_exists:
  description:
    - Whether C(_prisma_migrations) exists in the schema. V(false) means the database is not managed by Prisma
      yet, and every local migration is pending.
  returned: always
  type: bool
  sample: true
local:
  description: Names of the migrations in O(migrations_dir), in order; empty without O(migrations_dir).
  returned: always
  type: list
  elements: str
  sample: ["20260101120000_init", "20260301090000_user_sessions"]
applied:
  description: Migrations applied successfully and not rolled back, in the order they ran.
  returned: always
  type: list
  elements: str
  sample: ["20260101120000_init"]
pending:
  description: Local migrations the next C(prisma migrate deploy) would apply (neither applied nor failed), in order.
  returned: always
  type: list
  elements: str
  sample: ["20260301090000_user_sessions"]
failed_migrations:
  description:
    - Migration runs that started and neither finished nor were rolled back; C(migrate deploy) refuses to run while any is listed.
    - Named so because Ansible reads a result's C(failed) key as the task's own failure flag.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Migration name.
      type: str
    started_at:
      description: When the failed run started (ISO 8601).
      type: str
    applied_steps_count:
      description: Steps Prisma recorded as applied before the failure.
      type: int
    logs:
      description: The error Prisma recorded.
      type: str
  sample:
    - name: 20260301090000_user_sessions
      started_at: "2026-05-19T10:02:11.123456+00:00"
      applied_steps_count: 0
      logs: 'relation "user_sessions" already exists'
rolled_back:
  description: Migrations whose every run was marked rolled back (C(migrate deploy) applies them again).
  returned: always
  type: list
  elements: str
  sample: []
modified:
  description: Applied migrations whose local C(migration.sql) no longer matches the recorded checksum (edited after being applied).
  returned: always
  type: list
  elements: str
  sample: []
missing_locally:
  description: Migrations applied (or failed) in the database with no folder in O(migrations_dir) (diverged history, or an older release).
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: One sentence describing the state, or why the database could not be read.
  returned: always
  type: str
  sample: "1 of 2 migrations pending: 20260301090000_user_sessions."
resolve_hints:
  description: For each failed migration, the C(prisma migrate resolve) choices, one line each.
  returned: always
  type: list
  elements: str
  sample:
    - "20260301090000_user_sessions: if its changes are NOT in the database (nothing ran, or you reverted them by hand),
      run `npx prisma migrate resolve --rolled-back 20260301090000_user_sessions`, then deploy again to re-apply it."
    - "20260301090000_user_sessions: if you completed its changes by hand so the database matches the script,
      run `npx prisma migrate resolve --applied 20260301090000_user_sessions`; deploy then goes on with the next migration."
queries:
  description: The SQL statements the module ran.
  returned: always
  type: list
  elements: str
  sample: ["SET search_path TO \"public\"", "SELECT migration_name, checksum, ... FROM \"public\".\"_prisma_migrations\" ORDER BY started_at, id"]
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

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
from ansible_collections.nekomorto.ops.plugins.module_utils._prisma import (
    MIGRATIONS_TABLE,
    MigrationRecord,
    MigrationsDirError,
    compare_migrations,
    read_archived_migrations,
    read_local_migrations,
    read_migration_records,
    resolve_hints,
    summarize,
)


APPLICATION_NAME = "nekomorto.ops.prisma_migrations_info"


def _argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = connection_argument_spec()
    spec.update(
        migrations_dir={"type": "path"},
        migrations_git_dir={"type": "path"},
        migrations_git_commit={"type": "str"},
        migrations_git_path={"type": "str", "default": "prisma/migrations"},
        fail_on_unreachable={"type": "bool", "default": True},
    )
    return spec


def _empty_result(schema: str = PRISMA_DEFAULT_SCHEMA) -> dict[str, t.Any]:
    return {
        "changed": False,
        "database_reachable": False,
        "schema": schema,
        "table_exists": False,
        "local": [],
        "applied": [],
        "pending": [],
        "failed_migrations": [],
        "rolled_back": [],
        "modified": [],
        "missing_locally": [],
        "summary": "",
        "resolve_hints": [],
        "queries": [],
    }


class MigrationsProbe:
    """Read C(_prisma_migrations) and compare it with the release's migrations folder."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.result = _empty_result()

    def fail(self, message: str) -> t.NoReturn:
        self.module.fail_json(msg=message, **self.result)
        raise AssertionError("fail_json returned")  # pragma: no cover

    def run(self) -> dict[str, t.Any]:
        try:
            params = connection_params_from_module_params(self.module.params)
        except ConnectionSettingsError as exc:
            self.fail(str(exc))
        if params.password:
            self.module.no_log_values.add(params.password)
        self.result["schema"] = params.schema

        local = None
        try:
            if self.module.params["migrations_dir"]:
                local = read_local_migrations(self.module.params["migrations_dir"])
            elif self.module.params["migrations_git_dir"]:
                archive = self._git_archive()
                local = [] if archive is None else read_archived_migrations(
                    archive, self.module.params["migrations_git_path"])
        except MigrationsDirError as exc:
            self.fail(str(exc))
        if local is not None:
            self.result["local"] = [migration.name for migration in local]

        session = PostgresSession(params, self.module.params["connect_timeout"], APPLICATION_NAME)
        try:
            session.open()
        except DatabaseConnectError as exc:
            if self.module.params["fail_on_unreachable"]:
                self.fail(str(exc))
            self.result["summary"] = f"Database unreachable: {exc}"
            return self.result
        self.result["database_reachable"] = True
        try:
            records = self._read_records(session)
        except DatabaseQueryError as exc:
            self.result["queries"] = session.queries
            self.fail(f"cannot read {params.schema}.{MIGRATIONS_TABLE} (does this user have SELECT on it?): {exc}")
        finally:
            session.close()
        self.result["queries"] = session.queries

        state = compare_migrations(local, records)
        self.result.update(state.as_dict())
        self.result["summary"] = summarize(state, params.schema)
        self.result["resolve_hints"] = resolve_hints(state)
        return self.result

    def _git(self, *args: str) -> tuple[int, bytes, str]:
        git_dir = self.module.params["migrations_git_dir"]
        # safe.directory: the mirror belongs to the app user, and git refuses another user's repository.
        rc, out, err = self.module.run_command(["git", "-c", f"safe.directory={git_dir}", "-C", git_dir, *args],
                                               encoding=None)
        return rc, out, err.decode("utf-8", errors="replace").strip() if isinstance(err, bytes) else str(err).strip()

    def _git_archive(self) -> bytes | None:
        """The tar of the migrations folder at the commit; None when the commit has no such folder."""
        git_dir, commit = self.module.params["migrations_git_dir"], self.module.params["migrations_git_commit"]
        path = self.module.params["migrations_git_path"].strip("/")
        rc, _out, err = self._git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
        if rc != 0:
            raise MigrationsDirError(f"the repository {git_dir} has no commit {commit}{': ' + err if err else ''}")
        rc, out, err = self._git("ls-tree", "--name-only", commit, "--", path)
        if rc != 0:
            raise MigrationsDirError(f"cannot list {path} of {commit} in {git_dir}: {err or f'git exited {rc}'}")
        if not out.strip():
            return None
        rc, out, err = self._git("archive", "--format=tar", commit, "--", path)
        if rc != 0:
            raise MigrationsDirError(f"cannot read {path} of {commit} in {git_dir}: {err or f'git exited {rc}'}")
        return out

    @staticmethod
    def _read_records(session: PostgresSession) -> list[MigrationRecord] | None:
        return read_migration_records(session)


def main() -> None:
    module = AnsibleModule(
        argument_spec=_argument_spec(),
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE + [("migrations_dir", "migrations_git_dir")],
        required_one_of=CONNECTION_REQUIRED_ONE_OF,
        required_together=[("migrations_git_dir", "migrations_git_commit")],
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR, **_empty_result())
    module.exit_json(**MigrationsProbe(module).run())


if __name__ == "__main__":
    main()
