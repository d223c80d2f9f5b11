# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of the modules that read the app's PostgreSQL database."""

    # The connection options; every module that connects with the app's credentials extends it.
    DOCUMENTATION = r"""
options:
  database_url:
    description:
      - The app's connection string, C(postgresql://user:password@host:5432/database), as in C(DATABASE_URL).
      - Percent-encoded user names and passwords are decoded; V(postgres://) works too.
      - Prisma's C(?schema=) parameter selects the schema (default V(public)) and becomes the session's search path;
        Prisma's other own parameters (C(connection_limit), C(pool_timeout), C(pgbouncer)...) are ignored;
        any other parameter is passed to libpq (for example C(sslmode), C(sslrootcert), C(options)).
      - Prefer O(env_file), so that no secret travels as a module argument.
      - Exactly one of O(database_url) and O(env_file) is required.
    type: str
  env_file:
    description:
      - Path, on the managed host, of the app's C(.env) file; the module reads C(DATABASE_URL) from it.
      - The file is parsed as the app's dotenv does (C(KEY=value), C(export KEY=value), single, double or back
        quotes, C(#) comments). The task must run as a user allowed to read it (usually with C(become)).
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the connection to be established; overrides a C(connect_timeout) in the URL.
    type: int
    default: 10
requirements:
  - psycopg2 (C(psycopg2-binary) works too)
"""

    # For the modules that only read, in a read-only session (the probes).
    READ_ONLY = r"""
options: {}
notes:
  - The module connects in a read-only session, named after the module in C(pg_stat_activity)
    unless the URL sets C(application_name).
  - Connection errors say where and as whom the connection was tried and why it failed; they never contain the password.
"""
