# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PostgreSQL connection helpers shared by the collection's database probes.

The app keeps its connection string in C(DATABASE_URL), in Prisma's URL dialect. These helpers
read it (from an argument or from the app's C(.env)), turn it into libpq keywords for psycopg2,
and open a read-only session whose errors never carry the password.
"""

from __future__ import annotations

import re
import traceback
import typing as t
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

try:
    import psycopg2
    from psycopg2 import sql as _sql
except ImportError:
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None


DATABASE_URL_KEY = "DATABASE_URL"
PRISMA_DEFAULT_SCHEMA = "public"

# URL parameters that only Prisma understands: libpq rejects unknown keywords, so they are dropped
# (and `schema` becomes the search path).
_PRISMA_ONLY_PARAMETERS = frozenset({
    "schema",
    "connection_limit",
    "pool_timeout",
    "pgbouncer",
    "statement_cache_size",
    "socket_timeout",
    "sslaccept",
    "sslidentity",
    "single_use_connections",
    "max_connection_lifetime",
    "max_idle_connection_lifetime",
})

# Parameters of the app's other client, node-postgres (pg-connection-string), that libpq does not know:
# uselibpqcompat only changes how node reads sslmode; ssl=true asks for TLS, as sslmode=require does;
# sslmode=no-verify is TLS without checking the certificate, libpq's require.
_NODE_PG_ONLY_PARAMETERS = frozenset({"uselibpqcompat", "ssl"})
_TRUE_SSL = frozenset({"true", "1", "yes", "on"})

_ASSIGNMENT = re.compile(r"[ \t]*(?:export[ \t]+)?(?P<key>[\w.-]+)[ \t]*=[ \t]*")


def connection_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Options of every module that connects with the app's credentials."""
    return {
        "database_url": {"type": "str", "no_log": True},
        "env_file": {"type": "path"},
        "connect_timeout": {"type": "int", "default": 10},
    }


CONNECTION_MUTUALLY_EXCLUSIVE = [("database_url", "env_file")]
CONNECTION_REQUIRED_ONE_OF = [("database_url", "env_file")]


class ConnectionSettingsError(Exception):
    """The connection settings cannot be used as given (bad URL, unreadable .env...)."""


class DatabaseConnectError(Exception):
    """PostgreSQL refused or could not be reached; the message never holds the password."""


class DatabaseQueryError(Exception):
    """A statement failed; the message never holds the password."""


@dataclass
class ConnectionParams:
    """A parsed C(DATABASE_URL): libpq keywords plus Prisma's schema."""

    host: str | None = None
    port: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    dbname: str | None = None
    schema: str = PRISMA_DEFAULT_SCHEMA
    libpq_options: dict[str, str] = field(default_factory=dict)

    def target(self) -> str:
        """Where we connect, for messages: C(127.0.0.1:5432), never the password."""
        host = self.host or self.libpq_options.get("host") or "the local socket"
        port = self.port or self.libpq_options.get("port") or "5432"
        if host.startswith("/"):
            return f"{host} (socket, port {port})"
        if ":" in host and "," not in host:
            host = f"[{host}]"
        return f"{host}:{port}"

    def connect_kwargs(self, connect_timeout: int | None, application_name: str) -> dict[str, t.Any]:
        """Keyword arguments for C(psycopg2.connect)."""
        kwargs: dict[str, t.Any] = dict(self.libpq_options)
        for key in ("host", "port", "user", "password", "dbname"):
            value = getattr(self, key)
            if value not in (None, ""):
                kwargs[key] = value
        if connect_timeout is not None:
            kwargs["connect_timeout"] = str(connect_timeout)
        kwargs.setdefault("fallback_application_name", application_name)
        return kwargs


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,19}$")
_ENCODING_HINT = " (a password holding / : @ # or ? must be percent-encoded, / as %2F)"


def _split_hosts(hostspec: str) -> tuple[str | None, str | None]:
    """Turn C(h1:5432,[::1]:5433) into libpq's C(host) and C(port) lists."""
    if not hostspec:
        return None, None
    hosts: list[str] = []
    ports: list[str] = []
    for item in hostspec.split(","):
        item = unquote(item)
        if item.startswith("["):
            closing = item.find("]")
            if closing < 0:
                raise ConnectionSettingsError(f"a host in {DATABASE_URL_KEY} opens a bracket it does not close{_ENCODING_HINT}")
            host, rest = item[1:closing], item[closing + 1:]
            port = rest[1:] if rest.startswith(":") else ""
        elif item.count(":") == 1:
            host, port = item.split(":")
        else:
            host, port = item, ""
        if port and not port.isdigit():
            # Never repeated: with an unencoded / in the password, this "port" is part of the password.
            raise ConnectionSettingsError(f"the port in {DATABASE_URL_KEY} is not a number{_ENCODING_HINT}")
        hosts.append(host)
        ports.append(port)
    host_value = ",".join(hosts) or None
    port_value = ",".join(ports) if any(ports) else None
    return host_value, port_value


def parse_database_url(url: str) -> ConnectionParams:
    """Parse a C(postgres://) or C(postgresql://) URL as Prisma reads it.

    User name and password are percent-decoded; C(?schema=) is kept apart (it becomes the search
    path); Prisma-only parameters are dropped; the other query parameters go to libpq as keywords.
    """
    url = url.strip()
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("postgres", "postgresql"):
        # The scheme is named only when it looks like one: without "://", the value could start with a password.
        got = f"got the scheme {scheme!r}" if separator and _SCHEME.match(scheme) else "got a value without a URL scheme"
        raise ConnectionSettingsError(f"{DATABASE_URL_KEY} must start with postgresql:// or postgres://, {got}")
    rest, _hash, _fragment = rest.partition("#")
    netloc_and_path, _question, query = rest.partition("?")
    netloc, _slash, path = netloc_and_path.partition("/")

    params = ConnectionParams()
    userinfo, at, hostspec = netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        params.user = unquote(user) or None
        params.password = unquote(password) if colon else None
    params.host, params.port = _split_hosts(hostspec)
    params.dbname = unquote(path) or None

    node_ssl = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "schema":
            if value:
                params.schema = value
        elif key == "ssl":
            node_ssl = value.lower() in _TRUE_SSL
        elif key == "sslmode" and value == "no-verify":
            params.libpq_options[key] = "require"
        elif key not in _PRISMA_ONLY_PARAMETERS and key not in _NODE_PG_ONLY_PARAMETERS:
            params.libpq_options[key] = value
    if node_ssl:
        params.libpq_options.setdefault("sslmode", "require")
    # libpq's own spelling of a socket directory or port in the query wins over an empty netloc.
    if params.host is None and "host" in params.libpq_options:
        params.host = params.libpq_options.pop("host")
    if params.port is None and "port" in params.libpq_options:
        params.port = params.libpq_options.pop("port")
    return params


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _quoted_value(text: str, start: int, quote: str) -> tuple[str, int] | None:
    """Read a quoted dotenv value from the opening quote at C(start); return it and its end."""
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            value = text[start + 1:index]
            if quote == '"':
                # dotenv expands these two escapes in double quotes, and only these.
                value = value.replace("\\n", "\n").replace("\\r", "\r")
            return value, index + 1
        index += 1
    return None


def parse_env_text(text: str) -> dict[str, str]:
    """Parse dotenv text as the app's C(dotenv) does.

    C(KEY=value) and C(export KEY=value) lines; single, double or back quotes (quoted values may
    span lines, double quotes expand C(\\n)); C(#) starts a comment outside quotes; the last
    assignment of a key wins.
    """
    values: dict[str, str] = {}
    position = 0
    text = text.replace("\r\n", "\n")
    while position < len(text):
        line_end = _line_end(text, position)
        match = _ASSIGNMENT.match(text, position, line_end)
        if not match:
            position = line_end + 1
            continue
        value_start = match.end()
        opener = text[value_start:value_start + 1]
        quoted = _quoted_value(text, value_start, opener) if opener in ('"', "'", "`") else None
        if quoted is not None:
            value, after = quoted
        else:
            # Unquoted, or a quote that never closes: dotenv then reads the line as it stands.
            value = text[value_start:line_end].split("#", 1)[0].strip()
            after = line_end
        values[match.group("key")] = value
        position = _line_end(text, after) + 1
    return values


def read_env_file(path: str) -> dict[str, str]:
    """Read the app's C(.env) file."""
    try:
        with open(path, encoding="utf-8") as env_file:
            text = env_file.read()
    except FileNotFoundError:
        raise ConnectionSettingsError(f"env_file {path} does not exist") from None
    except PermissionError:
        raise ConnectionSettingsError(
            f"env_file {path} is not readable by this user: run the task with become (and become_user set to the app user or root)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConnectionSettingsError(f"cannot read env_file {path}: {exc}") from None
    return parse_env_text(text)


def resolve_database_url(database_url: str | None, env_file: str | None) -> str:
    """The connection string, from the argument or from C(DATABASE_URL) in the env file."""
    if database_url:
        return database_url
    if not env_file:
        raise ConnectionSettingsError("set database_url or env_file")
    url = read_env_file(env_file).get(DATABASE_URL_KEY, "")
    if not url:
        raise ConnectionSettingsError(f"{DATABASE_URL_KEY} is not set in {env_file}")
    return url


def connection_params_from_module_params(module_params: dict[str, t.Any]) -> ConnectionParams:
    """Parse the connection options of a module (see L(connection_argument_spec))."""
    url = resolve_database_url(module_params.get("database_url"), module_params.get("env_file"))
    return parse_database_url(url)


_REASONS = (
    ("password authentication failed", "password authentication failed"),
    ("no password supplied", "the server asks for a password and DATABASE_URL has none"),
    ("no pg_hba.conf entry", "no pg_hba.conf entry allows this host, user and database"),
    ("does not exist", None),
    ("connection refused", "connection refused (is PostgreSQL running and listening on that address and port?)"),
    ("could not translate host name", "the host name does not resolve"),
    ("name or service not known", "the host name does not resolve"),
    ("timeout expired", None),
    ("no route to host", "no route to host"),
    ("too many connections", "the server has too many connections"),
    ("the database system is starting up", "the database system is starting up"),
    ("the database system is shutting down", "the database system is shutting down"),
)


def _last_server_line(raw: str) -> str:
    """The meaningful part of a libpq error: the FATAL line, without the host prefix."""
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    line = lines[-1] if len(lines) > 1 and lines[0].endswith("failed:") else lines[0]
    line = re.sub(r"^connection to server (at|on) .*? failed:\s*", "", line)
    line = re.sub(r"^(FATAL|ERROR):\s*", "", line)
    return line


def describe_connect_error(raw: str, params: ConnectionParams, connect_timeout: int | None) -> str:
    """An operator-facing sentence for a failed connection, naming what went wrong."""
    detail = _last_server_line(raw)
    lowered = raw.lower()
    reason = detail
    for needle, wording in _REASONS:
        if needle in lowered:
            if needle == "timeout expired":
                reason = f"no answer within {connect_timeout} s (timeout expired)" if connect_timeout else "timeout expired"
            elif needle == "password authentication failed" and detail.startswith("password authentication failed"):
                reason = detail
            elif wording is not None:
                reason = wording
            break
    user = params.user or "the default user"
    message = f"cannot connect to PostgreSQL at {params.target()} as {user}: {reason}"
    if params.dbname and f'"{params.dbname}" does not exist' in raw:
        message = f"cannot connect to PostgreSQL at {params.target()} as {user}: database \"{params.dbname}\" does not exist"
    return redact(message, params.password)


def redact(text: str, secret: str | None) -> str:
    """Hide a secret (and its percent-encoded spellings) in a text."""
    if not secret:
        return text
    for spelling in (secret, quote(secret, safe="")):
        text = text.replace(spelling, "********")
    return text


class PostgresSession:
    """A read-only psycopg2 session that records the statements it runs."""

    def __init__(self, params: ConnectionParams, connect_timeout: int | None, application_name: str) -> None:
        self.params = params
        self.connect_timeout = connect_timeout
        self.application_name = application_name
        self.queries: list[str] = []
        self._connection: t.Any = None

    def open(self) -> None:
        """Connect, switch to read-only autocommit and set the search path to Prisma's schema."""
        try:
            self._connection = psycopg2.connect(
                **self.params.connect_kwargs(self.connect_timeout, self.application_name)
            )
        except psycopg2.Error as exc:
            raise DatabaseConnectError(
                describe_connect_error(str(exc), self.params, self.connect_timeout)
            ) from None
        self._connection.set_session(readonly=True, autocommit=True)
        self.execute(_sql.SQL("SET search_path TO {}").format(_sql.Identifier(self.params.schema)))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> PostgresSession:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def execute(self, query: t.Any, args: t.Sequence[t.Any] | None = None) -> list[tuple[t.Any, ...]]:
        """Run one statement and return its rows (empty for statements without a result)."""
        try:
            with self._connection.cursor() as cursor:
                self.queries.append(cursor.mogrify(query, args).decode("utf-8"))
                cursor.execute(query, args)
                if cursor.description is None:
                    return []
                return cursor.fetchall()
        except psycopg2.Error as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseQueryError(redact(f"{self.queries[-1]}: {detail}", self.params.password)) from None

    def fetch_value(self, query: t.Any, args: t.Sequence[t.Any] | None = None) -> t.Any:
        rows = self.execute(query, args)
        return rows[0][0] if rows else None

    def relation_exists(self, name: str) -> bool:
        """Whether a table (plain or partitioned) of that name exists in the session's schema."""
        return bool(self.fetch_value(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p'))",
            (self.params.schema, name),
        ))

    def on_table(self, template: str, table: str) -> t.Any:
        """A statement whose C({}) is the schema-qualified, safely quoted C(table)."""
        return _sql.SQL(template).format(_sql.Identifier(self.params.schema, table))
