#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: app_database_info
short_description: Check that the app's database is reachable with the app's credentials, and describe it
version_added: 0.1.0
description:
  - Connects to PostgreSQL exactly as the app does (same C(DATABASE_URL), read from the app's C(.env) or given)
    and reports the server version, database, user, database size and whether the session table exists.
  - Fails with a message that names what is wrong (wrong password, unreachable host, missing database, no
    pg_hba.conf entry...), where and as whom the connection was tried, and never the password.
  - The deploy's preflight uses it before changing anything.
  - The module only reads, in a read-only session; it reports C(changed=false) and runs for real in check mode.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
  - nekomorto.ops.postgres
  - nekomorto.ops.postgres.READ_ONLY
options:
  session_table:
    description:
      - The app's C(SESSION_TABLE), looked up in the schema of the URL (Prisma's default V(public)).
      - The app's migrations create V(user_sessions); the app never creates a table of another name itself.
    type: str
    default: user_sessions
  row_counts:
    description:
      - Also count the rows of every table of the schema, exactly, with a C(SELECT count) that reads whole tables.
    type: bool
    default: false
  migrations:
    description:
      - Also read Prisma's migration history (C(_prisma_migrations)) in the same session, without a local
        C(prisma/migrations) folder to compare with, and report the applied and the failed migrations with the
        C(prisma migrate resolve) choices for each failed one. The deploy's preflight stops on a failed migration
        with it, in the one connection that checks the credentials.
      - M(nekomorto.ops.prisma_migrations_info) also compares the history with a release's folder.
    type: bool
    default: false
seealso:
  - module: nekomorto.ops.prisma_migrations_info
    description: Migration state of the same database.
"""

EXAMPLES = r"""
- name: Check that the app's credentials reach its database
  nekomorto.ops.app_database_info:
    env_file: /srv/nekomorto/shared/.env
  become: true
  register: app_database
  check_mode: false

- name: Stop when the session table is missing
  ansible.builtin.assert:
    that: app_database.session_table_exists
    fail_msg: "Table {{ app_database.session_table }} is missing: run the migrations or create it."

- name: Check that pg_dump is recent enough for the server
  ansible.builtin.assert:
    that: pg_dump_major | int >= app_database.server_version.major

- name: Count the rows of every table before a data operation
  nekomorto.ops.app_database_info:
    env_file: /srv/nekomorto/shared/.env
    row_counts: true
  become: true
  register: rows_before
"""

RETURN = r"""
server_version:
  description: The server's version.
  returned: always
  type: dict
  contains:
    string:
      description: C(SHOW server_version); empty when not connected.
      type: str
      sample: 15.18 (Debian 15.18-0+deb12u1)
    major:
      description: Major version number; V(0) when not connected.
      type: int
      sample: 15
    num:
      description: C(server_version_num); V(0) when not connected.
      type: int
      sample: 150018
  sample: {string: "15.18 (Debian 15.18-0+deb12u1)", major: 15, num: 150018}
database:
  description: The database connected to.
  returned: always
  type: str
  sample: nekomorto
user:
  description: The user connected as (C(current_user)).
  returned: always
  type: str
  sample: nekomorto_app
schema:
  description: The schema the app uses, from the URL's C(?schema=) (Prisma's default V(public)).
  returned: always
  type: str
  sample: public
database_size_bytes:
  description: Size of the database on disk, as the C(pg_database_size) function reports it.
  returned: always
  type: int
  sample: 48312847
session_table:
  description: The session table looked up (O(session_table)).
  returned: always
  type: str
  sample: user_sessions
session_table_exists:
  description: Whether the session table exists in the schema.
  returned: always
  type: bool
  sample: true
row_counts:
  description: Exact row count of each table of the schema, by table name; V(null) unless O(row_counts=true).
  returned: always
  type: dict
  sample: {"_prisma_migrations": 17, "posts": 412, "user_sessions": 35}
migrations:
  description: Prisma's migration history; V(null) unless O(migrations=true).
  returned: always
  type: dict
  contains:
    table_exists:
      description: Whether C(_prisma_migrations) exists (false on a database Prisma has never migrated).
      type: bool
    applied:
      description: Names of the migrations applied and not rolled back, in the order they ran.
      type: list
      elements: str
    failed_migrations:
      description: Migrations started and never finished nor rolled back, as RV(nekomorto.ops.prisma_migrations_info#module:failed_migrations).
      type: list
      elements: dict
    rolled_back:
      description: Migrations whose every run was marked rolled back (C(prisma migrate resolve --rolled-back)); deploy applies them again.
      type: list
      elements: str
    resolve_hints:
      description: For each failed migration, the two C(prisma migrate resolve) commands and when each applies.
      type: list
      elements: str
  sample: {"table_exists": true, "applied": ["20250101000000_init"], "failed_migrations": [], "rolled_back": [], "resolve_hints": []}
queries:
  description: The SQL statements the module ran.
  returned: always
  type: list
  elements: str
  sample: ["SET search_path TO \"public\"", "SELECT current_database(), current_user, ..."]
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
    compare_migrations,
    read_migration_records,
    resolve_hints,
)

APPLICATION_NAME = "nekomorto.ops.app_database_info"


def _argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = connection_argument_spec()
    spec.update(
        session_table={"type": "str", "default": "user_sessions"},
        row_counts={"type": "bool", "default": False},
        migrations={"type": "bool", "default": False},
    )
    return spec


def _empty_result(session_table: str) -> dict[str, t.Any]:
    return {
        "changed": False,
        "server_version": {"string": "", "major": 0, "num": 0},
        "database": "",
        "user": "",
        "schema": PRISMA_DEFAULT_SCHEMA,
        "database_size_bytes": 0,
        "session_table": session_table,
        "session_table_exists": False,
        "row_counts": None,
        "migrations": None,
        "queries": [],
    }


def major_version(server_version_num: int) -> int:
    """Major version from C(server_version_num): 150018 is 15, 90624 is 9.6 reported as 9."""
    return server_version_num // 10000


def migration_history(session: PostgresSession) -> dict[str, t.Any]:
    """The applied and the failed migrations, with the resolve choices, read through an open session."""
    state = compare_migrations(None, read_migration_records(session))
    return {
        "table_exists": state.table_exists,
        "applied": state.applied,
        "failed_migrations": state.failed_migrations,
        "rolled_back": state.rolled_back,
        "resolve_hints": resolve_hints(state),
    }


def describe(session: PostgresSession, session_table: str, row_counts: bool, migrations: bool = False) -> dict[str, t.Any]:
    """Everything the module reports, read through an open session."""
    database, user, version, version_num, size = session.execute(
        "SELECT current_database(), current_user, current_setting('server_version'),"
        " current_setting('server_version_num')::int, pg_database_size(current_database())"
    )[0]
    facts: dict[str, t.Any] = {
        "server_version": {"string": version, "major": major_version(version_num), "num": version_num},
        "database": database,
        "user": user,
        "database_size_bytes": int(size),
        "session_table_exists": session.relation_exists(session_table),
        "row_counts": None,
        "migrations": migration_history(session) if migrations else None,
    }
    if row_counts:
        tables = session.execute(
            "SELECT c.relname FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY c.relname",
            (session.params.schema,),
        )
        facts["row_counts"] = {
            name: int(session.fetch_value(session.on_table("SELECT count(*) FROM {}", name)))
            for (name,) in tables
        }
    return facts


class DatabaseProbe:
    """Connect with the app's credentials and describe what is there."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.result = _empty_result(module.params["session_table"])

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

        session = PostgresSession(params, self.module.params["connect_timeout"], APPLICATION_NAME)
        try:
            session.open()
            self.result.update(describe(
                session, self.module.params["session_table"], self.module.params["row_counts"], self.module.params["migrations"]
            ))
        except (DatabaseConnectError, DatabaseQueryError) as exc:
            self.result["queries"] = session.queries
            self.fail(str(exc))
        finally:
            session.close()
        self.result["queries"] = session.queries
        return self.result


def main() -> None:
    module = AnsibleModule(
        argument_spec=_argument_spec(),
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE,
        required_one_of=CONNECTION_REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(
            msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR, **_empty_result(module.params["session_table"])
        )
    module.exit_json(**DatabaseProbe(module).run())


if __name__ == "__main__":
    main()
