# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PostgreSQL's client programs (pg_dump, pg_restore, psql) driven safely from a module.

The password never reaches a command line or the environment: the programs get a libpq connection
string without it, and read it from a 0600 password file in a private temporary folder that lives
only as long as the run (another secret option, C(sslpassword), from a service file beside it).
The rest is pure logic (version rules, the archive's table of contents, the SQL that wraps a restore)
so that it can be tested without a server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import typing as t
from dataclasses import dataclass, field

from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import ConnectionParams, redact

# Settings a restore script must not change on a database it does not own alone.
_SKIPPED_TOC_TYPES = frozenset({"SCHEMA"})
# COMMENT and ACL entries about these objects need their owner (a schema, an extension): left as they are.
_SKIPPED_TOC_SUBJECTS = ("SCHEMA ", "EXTENSION ")
# Entry types of pg_restore --list made of several words, longest first.
_MULTIWORD_TOC_TYPES = (
    "PUBLICATION TABLES IN SCHEMA",
    "TEXT SEARCH CONFIGURATION",
    "TEXT SEARCH DICTIONARY",
    "MATERIALIZED VIEW DATA",
    "TEXT SEARCH TEMPLATE",
    "FOREIGN DATA WRAPPER",
    "TEXT SEARCH PARSER",
    "SEQUENCE OWNED BY",
    "PUBLICATION TABLE",
    "PROCEDURAL LANGUAGE",
    "DATABASE PROPERTIES",
    "MATERIALIZED VIEW",
    "CHECK CONSTRAINT",
    "OPERATOR FAMILY",
    "STATISTICS DATA",
    "OPERATOR CLASS",
    "BLOB METADATA",
    "EVENT TRIGGER",
    "FK CONSTRAINT",
    "FOREIGN TABLE",
    "LARGE OBJECTS",
    "ROW SECURITY",
    "SEQUENCE SET",
    "TABLE ATTACH",
    "INDEX ATTACH",
    "USER MAPPING",
    "DEFAULT ACL",
    "SHELL TYPE",
    "TABLE DATA",
)
_TOC_ENTRY = re.compile(r"^(?P<dump_id>\d+);\s+(?P<table_oid>\d+)\s+(?P<oid>\d+)\s+(?P<rest>.*)$")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(?P<major>\d+)(?:\.(?P<minor>\d+))?")
_HEADER_VERSION = re.compile(r"^;\s+Dumped (?P<what>from database|by pg_dump) version:\s*(?P<version>\S+)")
_HEADER_FIELD = re.compile(r"^;\s+(?P<key>Format|TOC Entries|Compression|Archive created at|dbname):\s*(?P<value>.*)$")
# Names of the psql variables and settings the restore script uses; a dot makes a custom setting legal.
RESTORE_COMPLETE_SETTING = "nekomorto_ops.restore_stream_complete"
RESTORE_COMPLETE_MARKER = f"SELECT pg_catalog.set_config('{RESTORE_COMPLETE_SETTING}', 'yes', false);\n"
_DOLLAR_TAG = "$nekomorto_ops$"


class ToolError(Exception):
    """A client program is missing, too old, or failed; the message never holds the password."""


@dataclass(frozen=True, order=True)
class ToolVersion:
    """A PostgreSQL version as the programs print it: 17.12 is (17, 12)."""

    major: int
    minor: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_tool_version(text: str) -> ToolVersion:
    """The version in C(pg_dump (PostgreSQL) 17.12 (Debian 17.12-0+deb13u1)); ValueError if there is none."""
    match = _VERSION.search(text)
    if not match:
        raise ValueError(f"cannot read a PostgreSQL version in {text.strip()[:120]!r}")
    return ToolVersion(int(match.group("major")), int(match.group("minor") or 0))


def parse_version_string(text: str) -> ToolVersion:
    """A bare version such as C(17.12), C(17.12 (Debian ...)), C(9.6.24) or C(18beta1)."""
    match = re.match(r"\s*(\d+)(?:\.(\d+))?", text or "")
    if not match:
        raise ValueError(f"cannot read a PostgreSQL version in {text!r}")
    return ToolVersion(int(match.group(1)), int(match.group(2) or 0))


def server_major(server_version_num: int) -> int:
    """The major version of C(server_version_num): 170012 is 17 (and 90624 is 9)."""
    return server_version_num // 10000


def dump_version_problem(pg_dump: ToolVersion, pg_dump_path: str, server_version: str, server_version_num: int) -> str | None:
    """Why this pg_dump cannot dump this server, or None. pg_dump refuses servers of a newer major version."""
    major = server_major(server_version_num)
    if pg_dump.major >= major:
        return None
    return (
        f"pg_dump {pg_dump} ({pg_dump_path}) is older than the database server (PostgreSQL {server_version}): "
        f"pg_dump must be of major version {major} or newer, or it refuses to dump (server version mismatch). "
        f"Install the PostgreSQL {major} client on this host (Debian: postgresql-client-{major}) "
        f"or point bin_dir at a pg_dump of version {major} or newer."
    )


def restore_version_problem(pg_restore: ToolVersion, pg_restore_path: str, dumped_by: ToolVersion | None) -> str | None:
    """Why this pg_restore cannot read an archive written by pg_dump C(dumped_by), or None."""
    if dumped_by is None or pg_restore.major >= dumped_by.major:
        return None
    return (
        f"pg_restore {pg_restore} ({pg_restore_path}) is older than the pg_dump {dumped_by} that wrote the backup: "
        f"it cannot read the archive. Install the PostgreSQL {dumped_by.major} client on this host "
        f"(Debian: postgresql-client-{dumped_by.major}) or point bin_dir at a newer one."
    )


# ---------------------------------------------------------------------------------------------
# Connection without the password on the command line.

# libpq keywords that never go on a command line: the password goes in a password file, the others in
# a service file (both in the run's private folder).
_SECRET_KEYWORDS = frozenset({"password", "passfile", "sslpassword"})
_SERVICE_NAME = "nekomorto-ops"


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def build_conninfo(params: ConnectionParams, connect_timeout: int | None, application_name: str) -> str:
    """A libpq keyword/value connection string for C(--dbname), without the password."""
    keywords: dict[str, str] = {}
    for key in ("host", "port", "user", "dbname"):
        value = getattr(params, key)
        if value not in (None, ""):
            keywords[key] = value
    for key, value in params.libpq_options.items():
        if key in _SECRET_KEYWORDS:
            continue
        keywords.setdefault(key, value)
    if service_options(params):
        if "service" in keywords:
            raise ToolError("DATABASE_URL sets both service and sslpassword; put sslpassword in that service's file instead")
        keywords["service"] = _SERVICE_NAME
    if connect_timeout is not None:
        keywords["connect_timeout"] = str(connect_timeout)
    keywords.setdefault("application_name", application_name)
    return " ".join(f"{key}={_conninfo_value(value)}" for key, value in keywords.items())


def connection_password(params: ConnectionParams) -> str | None:
    """The password of the URL, or one given as a C(?password=) parameter."""
    return params.password if params.password not in (None, "") else params.libpq_options.get("password") or None


def service_options(params: ConnectionParams) -> dict[str, str]:
    """The secret options other than the password (C(sslpassword)): given to the programs in a service file."""
    return {key: value for key, value in params.libpq_options.items() if key == "sslpassword" and value}


def service_file_text(options: t.Mapping[str, str]) -> str:
    """A libpq service file holding ``options`` under the collection's service name."""
    lines = [f"[{_SERVICE_NAME}]"]
    for key, value in options.items():
        if "\n" in value or "\r" in value or value != value.strip():
            raise ToolError(f"the {key} option contains a line break or surrounding spaces, which a libpq service file cannot hold")
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def pgpass_line(password: str) -> str:
    """A password-file line matching any server: the file exists only for one connection target."""
    if "\n" in password or "\r" in password:
        raise ToolError("the database password contains a line break, which a libpq password file cannot hold")
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


class ClientSession:
    """A private folder holding the password file (and the service file of the other secret options), and
    the environment the client programs run with."""

    def __init__(self, password: str | None, secret_options: t.Mapping[str, str] | None = None) -> None:
        self.password = password
        self.secret_options = dict(secret_options or {})
        self.directory = ""

    def __enter__(self) -> ClientSession:
        self.directory = tempfile.mkdtemp(prefix="nekomorto-ops-pg-")
        try:
            os.chmod(self.directory, 0o700)
            if self.password:
                self._write_private(self.pgpass_path, pgpass_line(self.password))
            if self.secret_options:
                self._write_private(self.service_path, service_file_text(self.secret_options))
        except BaseException:
            # __exit__ does not run when __enter__ fails: a password file written already must not stay.
            self.__exit__()
            raise
        return self

    @staticmethod
    def _write_private(path: str, text: str) -> None:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)

    def __exit__(self, *exc_info: object) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = ""

    @property
    def pgpass_path(self) -> str:
        return os.path.join(self.directory, "pgpass")

    @property
    def service_path(self) -> str:
        return os.path.join(self.directory, "pg_service.conf")

    def path(self, name: str) -> str:
        """A file in the private folder (scripts, lists)."""
        return os.path.join(self.directory, name)

    def environment_update(self) -> dict[str, str]:
        """What the client programs need on top of the environment: the password and service files, English
        messages, no pager."""
        update = {"LC_ALL": "C", "LANG": "C", "PAGER": "cat", "PGPASSFILE": self.pgpass_path if self.password else os.devnull}
        if self.secret_options:
            update["PGSERVICEFILE"] = self.service_path
        return update

    def environment(self) -> dict[str, str]:
        """The caller's environment without any PG* variable (a stray PGPASSWORD or PGSERVICE would win over
        the connection string), plus environment_update()."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        environment.update(self.environment_update())
        return environment

    @staticmethod
    def clear_pg_environment() -> None:
        """Drop the PG* variables from this process, for the programs it starts through the module's run_command."""
        for key in [key for key in os.environ if key.startswith("PG")]:
            del os.environ[key]


def find_program(name: str, bin_dir: str | None, search: t.Callable[[str], str | None]) -> str:
    """The program in bin_dir, or found by C(search) (the module's get_bin_path) on the PATH."""
    if bin_dir:
        candidate = os.path.join(bin_dir, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        raise ToolError(f"{name} is not an executable in bin_dir {bin_dir}")
    found = search(name)
    if not found:
        raise ToolError(
            f"{name} was not found on the PATH: install the PostgreSQL client (Debian: postgresql-client) "
            "or set bin_dir"
        )
    return found


def program_version(path: str) -> ToolVersion:
    """Run C(<program> --version) and read it."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run {path}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise ToolError(f"{path} --version failed (exit {done.returncode}): {tail(done.stderr)}")
    try:
        return parse_tool_version(done.stdout)
    except ValueError as exc:
        raise ToolError(f"{path} --version: {exc}") from None


def tail(text: str, lines: int = 12, secret: str | None = None) -> str:
    """The last meaningful lines of a program's output, joined, without the secret."""
    kept = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return redact(" / ".join(kept[-lines:]), secret)


# ---------------------------------------------------------------------------------------------
# pg_restore --list

@dataclass
class TocEntry:
    """One line of C(pg_restore --list)."""

    line: str
    dump_id: int
    kind: str
    namespace: str
    name: str
    owner: str


@dataclass
class ArchiveToc:
    """The table of contents of a dump, and what its header says."""

    entries: list[TocEntry] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    dumped_by: ToolVersion | None = None
    dumped_from: str = ""

    @property
    def table_data(self) -> list[tuple[str, str]]:
        """(schema, table) of every C(TABLE DATA) entry."""
        return [(entry.namespace, entry.name) for entry in self.entries if entry.kind == "TABLE DATA"]

    @property
    def schemas(self) -> list[str]:
        """Schemas the dump puts objects in (excluding the catalogs), in order of appearance."""
        seen: dict[str, None] = {}
        for entry in self.entries:
            if entry.kind in ("SCHEMA",):
                seen.setdefault(entry.name, None)
            elif entry.namespace not in ("-", "", "pg_catalog", "information_schema"):
                seen.setdefault(entry.namespace, None)
        return list(seen)


def _split_kind(rest: str) -> tuple[str, str]:
    for kind in _MULTIWORD_TOC_TYPES:
        if rest.startswith(kind + " "):
            return kind, rest[len(kind) + 1:]
    kind, _space, remainder = rest.partition(" ")
    return kind, remainder


def parse_toc(text: str) -> ArchiveToc:
    """Read C(pg_restore --list) output: the entries, and the versions of the header."""
    toc = ArchiveToc()
    for raw in text.splitlines():
        line = raw.rstrip("\n")
        if line.startswith(";"):
            version = _HEADER_VERSION.match(line)
            if version:
                if version.group("what") == "by pg_dump":
                    try:
                        toc.dumped_by = parse_version_string(version.group("version"))
                    except ValueError:
                        toc.dumped_by = None
                else:
                    toc.dumped_from = version.group("version")
                continue
            header = _HEADER_FIELD.match(line)
            if header:
                toc.header[header.group("key")] = header.group("value").strip()
            continue
        match = _TOC_ENTRY.match(line)
        if not match:
            continue
        kind, remainder = _split_kind(match.group("rest"))
        namespace, _space, remainder = remainder.partition(" ")
        name, _space, owner = remainder.rpartition(" ")
        if not name:
            name, owner = owner, ""
        toc.entries.append(TocEntry(line, int(match.group("dump_id")), kind, namespace, name, owner))
    return toc


# Large objects: pg_restore writes their data between BEGIN and COMMIT of its own, which would end the
# restore's single transaction half-way (what follows could no longer be rolled back).
_LARGE_OBJECT_TOC_TYPES = frozenset({"BLOB", "BLOBS", "BLOB METADATA", "LARGE OBJECTS"})


def large_objects_problem(toc: ArchiveToc) -> str | None:
    """Why an archive cannot be restored in one transaction (it holds large objects), or None."""
    count = sum(1 for entry in toc.entries if entry.kind in _LARGE_OBJECT_TOC_TYPES)
    if not count:
        return None
    return (
        f"the archive holds large objects ({count} table-of-contents entries): pg_restore commits their data on its "
        "own, so the restore could not stay one transaction that rolls back on any error. It is refused; restore "
        "it by hand into a new database (pg_restore --create) if you need it."
    )


def restore_use_list(toc: ArchiveToc) -> str:
    """The C(pg_restore -L) list: every entry, except those about schemas and extensions themselves.

    The restore replaces what is INSIDE the schemas and leaves the schemas (and extensions) as they
    are: creating a schema that exists, or commenting on a schema or extension the app's role does not
    own, would fail the whole transaction.
    """
    lines = []
    for entry in toc.entries:
        skipped = entry.kind in _SKIPPED_TOC_TYPES or (
            entry.kind in ("COMMENT", "ACL", "SECURITY LABEL") and entry.name.startswith(_SKIPPED_TOC_SUBJECTS)
        )
        lines.append(f";{entry.line}" if skipped else entry.line)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The SQL around the restore script, run in the same transaction.

def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text_array(values: t.Iterable[str]) -> str:
    return "ARRAY[" + ", ".join(quote_literal(value) for value in values) + "]::text[]"


def clean_schemas_sql(schemas: list[str], lock_timeout_s: int) -> str:
    """Statements run first in the restore's transaction: drop everything inside the schemas.

    Tables (with what depends on them), views, sequences, routines and types of the schemas go, except
    the members of extensions; large objects of the current role go too. The schemas stay. Any object
    the role may not drop makes the transaction fail, and the database stays as it was.
    """
    schema_list = _text_array(schemas)
    extension_member = (
        "EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '{catalog}'::regclass"
        " AND d.objid = {oid} AND d.deptype = 'e')"
    )
    statements = [
        f"SET lock_timeout = '{int(lock_timeout_s)}s';",
        *[f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)};" for schema in schemas],
        f"""DO {_DOLLAR_TAG}
DECLARE
  target record;
BEGIN
  FOR target IN
    SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                                 WHEN 'S' THEN 'SEQUENCE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
                  n.nspname, c.relname) AS statement,
           CASE WHEN c.relkind IN ('r', 'p') THEN 1 WHEN c.relkind IN ('v', 'm', 'f') THEN 2
                WHEN c.relkind = 'S' THEN 3 ELSE 5 END AS step
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY ({schema_list})
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND NOT c.relispartition
       AND NOT {extension_member.format(catalog='pg_class', oid='c.oid')}
    UNION ALL
    SELECT format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE', n.nspname, p.proname,
                  pg_catalog.pg_get_function_identity_arguments(p.oid)), 4
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = ANY ({schema_list})
       AND NOT {extension_member.format(catalog='pg_proc', oid='p.oid')}
    UNION ALL
    SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, ty.typname), 5
      FROM pg_catalog.pg_type ty JOIN pg_catalog.pg_namespace n ON n.oid = ty.typnamespace
     WHERE n.nspname = ANY ({schema_list}) AND ty.typtype IN ('e', 'd', 'r')
       AND NOT {extension_member.format(catalog='pg_type', oid='ty.oid')}
    ORDER BY 2, 1
  LOOP
    EXECUTE target.statement;
  END LOOP;
  PERFORM pg_catalog.lo_unlink(l.oid) FROM pg_catalog.pg_largeobject_metadata l
    WHERE l.lomowner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
END
{_DOLLAR_TAG};""",
    ]
    return "\n".join(statements) + "\n"


def check_restored_sql(expected_tables: list[dict[str, t.Any]]) -> str:
    """Statements run last in the restore's transaction: a failure rolls the whole restore back.

    The restore script must have arrived complete (the marker is only sent after pg_restore exited 0),
    and every table must hold the number of rows the backup counted.
    """
    checks = []
    for table in expected_tables:
        qualified = f"{quote_ident(table['schema'])}.{quote_ident(table['name'])}"
        label = quote_literal(f"{table['schema']}.{table['name']}")
        rows = int(table["rows"])
        checks.append(
            f"  SELECT count(*) INTO found FROM {qualified};\n"
            f"  IF found <> {rows} THEN\n"
            f"    problems := problems || format('%s has %s rows, the backup counted %s', {label}, found, {rows});\n"
            "  END IF;"
        )
    body = "\n".join(checks)
    return f"""DO {_DOLLAR_TAG}
DECLARE
  found bigint;
  problems text[] := ARRAY[]::text[];
BEGIN
  IF current_setting({quote_literal(RESTORE_COMPLETE_SETTING)}, true) IS DISTINCT FROM 'yes' THEN
    RAISE EXCEPTION 'nekomorto.ops: the restore script did not arrive complete (pg_restore failed): rolled back';
  END IF;
{body}
  IF cardinality(problems) > 0 THEN
    RAISE EXCEPTION 'nekomorto.ops: the restored data differs from the backup: %', array_to_string(problems, '; ');
  END IF;
END
{_DOLLAR_TAG};
"""
