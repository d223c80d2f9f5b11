# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection helpers: DATABASE_URL parsing, the .env reader, connection error wording."""

from __future__ import annotations

import typing as t
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import (
    ConnectionParams,
    ConnectionSettingsError,
    connection_argument_spec,
    describe_connect_error,
    parse_database_url,
    parse_env_text,
    read_env_file,
    redact,
    resolve_database_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://nekomorto_app:s3cret@127.0.0.1:5432/nekomorto",
            {"host": "127.0.0.1", "port": "5432", "user": "nekomorto_app", "password": "s3cret", "dbname": "nekomorto",
             "schema": "public", "libpq_options": {}},
        ),
        (
            "postgres://app:p%40ss%3Aw%2Frd%25@db.internal/app_db",
            {"host": "db.internal", "port": None, "user": "app", "password": "p@ss:w/rd%", "dbname": "app_db"},
        ),
        (
            "postgresql://app:pw@localhost:5432/app?schema=tenant_1&connection_limit=5&pool_timeout=10&sslmode=require",
            {"schema": "tenant_1", "libpq_options": {"sslmode": "require"}},
        ),
        (
            "postgresql://app:pw@localhost/app?schema=&options=-c%20statement_timeout%3D5000&application_name=ops",
            {"schema": "public", "libpq_options": {"options": "-c statement_timeout=5000", "application_name": "ops"}},
        ),
        # node-postgres' own parameters (the app's session store reads the same URL): not libpq's.
        (
            "postgresql://app:pw@db/app?uselibpqcompat=true&sslmode=require",
            {"libpq_options": {"sslmode": "require"}},
        ),
        (
            "postgresql://app:pw@db/app?ssl=true",
            {"libpq_options": {"sslmode": "require"}},
        ),
        (
            "postgresql://app:pw@db/app?ssl=true&sslmode=verify-full",
            {"libpq_options": {"sslmode": "verify-full"}},
        ),
        (
            "postgresql://app:pw@db/app?sslmode=no-verify&ssl=false",
            {"libpq_options": {"sslmode": "require"}},
        ),
        (
            "postgresql://app@[::1]:5433/app",
            {"host": "::1", "port": "5433", "user": "app", "password": None},
        ),
        (
            "postgresql://app:pw@h1:5432,h2:5433/app?target_session_attrs=read-write",
            {"host": "h1,h2", "port": "5432,5433", "libpq_options": {"target_session_attrs": "read-write"}},
        ),
        (
            "postgresql:///app?host=/var/run/postgresql&port=5433",
            {"host": "/var/run/postgresql", "port": "5433", "user": None, "dbname": "app", "libpq_options": {}},
        ),
        (
            "postgresql://%2Fvar%2Frun%2Fpostgresql/app",
            {"host": "/var/run/postgresql", "dbname": "app"},
        ),
        (
            "postgresql://app:@localhost/app",
            {"user": "app", "password": ""},
        ),
        (
            "  POSTGRESQL://app:pw@localhost/my%20db#fragment  ",
            {"dbname": "my db", "password": "pw"},
        ),
    ],
)
def test_parse_database_url(url: str, expected: dict[str, t.Any]) -> None:
    params = parse_database_url(url)
    for key, value in expected.items():
        assert getattr(params, key) == value, key


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://app:pw@localhost/app", "DATABASE_URL must start with postgresql:// or postgres://, got the scheme 'mysql'"),
        ("localhost:5432/app", "DATABASE_URL must start with postgresql:// or postgres://, got a value without a URL scheme"),
        ("postgresql://app:pw@localhost:port/app", "the port in DATABASE_URL is not a number"),
        ("postgresql://app:pw@[::1/app", "opens a bracket it does not close"),
        # A password with an unencoded / ends the host part early: what follows "app:" looks like a port.
        ("postgresql://app:pw/Tail-Of-Secret@localhost:5432/app", "percent-encoded, / as %2F"),
        # No scheme: the value starts with the user and password, never repeated.
        ("app:pw-Tail-Of-Secret@localhost/app", "got a value without a URL scheme"),
    ],
)
def test_parse_database_url_refuses(url: str, message: str) -> None:
    with pytest.raises(ConnectionSettingsError) as error:
        parse_database_url(url)
    assert message in str(error.value)
    assert "pw" not in str(error.value) and "Tail-Of-Secret" not in str(error.value)


def test_params_repr_and_target_hide_the_password() -> None:
    params = parse_database_url("postgresql://app:Sup3rS3cret@127.0.0.1:5432/app")
    assert "Sup3rS3cret" not in repr(params)
    assert params.target() == "127.0.0.1:5432"
    assert ConnectionParams().target() == "the local socket:5432"
    assert ConnectionParams(host="::1", port="5433").target() == "[::1]:5433"
    assert ConnectionParams(host="/run/postgresql").target() == "/run/postgresql (socket, port 5432)"


def test_connect_kwargs() -> None:
    params = parse_database_url("postgresql://app:pw@127.0.0.1:5432/app?schema=s&sslmode=disable&connect_timeout=99")
    assert params.connect_kwargs(7, "nekomorto.ops.x") == {
        "host": "127.0.0.1", "port": "5432", "user": "app", "password": "pw", "dbname": "app",
        "sslmode": "disable", "connect_timeout": "7", "fallback_application_name": "nekomorto.ops.x",
    }
    assert "password" not in parse_database_url("postgresql://app@h/app").connect_kwargs(None, "x")


ENV_TEXT = "\n".join([
    "# The app's environment",
    'NODE_ENV=production',
    "export DATABASE_URL=\"postgresql://app:p%23ss@127.0.0.1:5432/nekomorto?schema=public\"   # quoted: '#' is a comment outside quotes",
    "SESSION_SECRET='single # quoted \\n stays'",
    'APP_ORIGIN=https://nekomata.moe,https://www.nekomata.moe # trailing comment',
    'EMPTY=',
    'SPACED =   value with spaces   ',
    'MULTI="line one',
    'line two\\nline three"',
    "BACKTICK=`it's \"both\"`",
    'UNCLOSED="no end',
    '   # an indented comment',
    'not an assignment',
    'NODE_ENV=staging',
    '',
])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DATABASE_URL", "postgresql://app:p%23ss@127.0.0.1:5432/nekomorto?schema=public"),
        ("SESSION_SECRET", "single # quoted \\n stays"),
        ("APP_ORIGIN", "https://nekomata.moe,https://www.nekomata.moe"),
        ("EMPTY", ""),
        ("SPACED", "value with spaces"),
        ("MULTI", "line one\nline two\nline three"),
        ("BACKTICK", "it's \"both\""),
        ("UNCLOSED", '"no end'),
        ("NODE_ENV", "staging"),  # the last assignment wins
    ],
)
def test_parse_env_text(key: str, value: str) -> None:
    assert parse_env_text(ENV_TEXT)[key] == value


def test_parse_env_text_handles_crlf_and_ignores_junk() -> None:
    values = parse_env_text("A=1\r\nexport B='2'\r\n#C=3\r\n=4\r\n")
    assert values == {"A": "1", "B": "2"}


def test_read_env_file_and_resolve(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('DATABASE_URL="postgresql://app:pw@127.0.0.1/app"\n')
    assert read_env_file(str(env_file))["DATABASE_URL"] == "postgresql://app:pw@127.0.0.1/app"
    assert resolve_database_url(None, str(env_file)) == "postgresql://app:pw@127.0.0.1/app"
    assert resolve_database_url("postgresql://given", str(env_file)) == "postgresql://given"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "env_file {path} does not exist"),
        ("NODE_ENV=production\n", "DATABASE_URL is not set in {path}"),
        ("DATABASE_URL=\n", "DATABASE_URL is not set in {path}"),
    ],
)
def test_resolve_database_url_errors(tmp_path: Path, content: str | None, message: str) -> None:
    env_file = tmp_path / ".env"
    if content is not None:
        env_file.write_text(content)
    with pytest.raises(ConnectionSettingsError) as error:
        resolve_database_url(None, str(env_file))
    assert str(error.value) == message.format(path=env_file)


def test_unreadable_env_file_suggests_become(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=x\n")
    # Tests may run as root, who reads any file: simulate the app user's 0600 file.
    with mock.patch("builtins.open", side_effect=PermissionError(13, "Permission denied")):
        with pytest.raises(ConnectionSettingsError) as error:
            read_env_file(str(env_file))
    assert str(error.value) == (
        f"env_file {env_file} is not readable by this user: run the task with become "
        "(and become_user set to the app user or root)"
    )


PARAMS = ConnectionParams(host="127.0.0.1", port="5432", user="nekomorto_app", password="Sup3r S3cret/", dbname="nekomorto")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "nekomorto_app"\n',
            'cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: password authentication failed for user "nekomorto_app"',
        ),
        (
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "nekomorto" does not exist\n',
            'cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: database "nekomorto" does not exist',
        ),
        (
            'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n'
            "\tIs the server running on that host and accepting TCP/IP connections?\n",
            "cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: connection refused "
            "(is PostgreSQL running and listening on that address and port?)",
        ),
        (
            'could not translate host name "db.invalid" to address: Name or service not known\n',
            "cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: the host name does not resolve",
        ),
        (
            'connection to server at "10.0.0.1", port 5432 failed: timeout expired\n',
            "cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: no answer within 3 s (timeout expired)",
        ),
        (
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  no pg_hba.conf entry for host "127.0.0.1", '
            'user "nekomorto_app", database "nekomorto", no encryption\n',
            "cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: no pg_hba.conf entry allows this host, user and database",
        ),
        (
            'connection to server at "127.0.0.1", port 5432 failed: FATAL:  role "nekomorto_app" does not exist\n',
            'cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: role "nekomorto_app" does not exist',
        ),
        (
            "some unexpected error mentioning Sup3r S3cret/ and Sup3r%20S3cret%2F\n",
            "cannot connect to PostgreSQL at 127.0.0.1:5432 as nekomorto_app: some unexpected error mentioning ******** and ********",
        ),
    ],
)
def test_describe_connect_error(raw: str, message: str) -> None:
    assert describe_connect_error(raw, PARAMS, 3) == message


def test_redact() -> None:
    assert redact("a p@ss b p%40ss", "p@ss") == "a ******** b ********"
    assert redact("nothing", None) == "nothing"


def test_connection_argument_spec_hides_the_url() -> None:
    spec = connection_argument_spec()
    assert spec["database_url"]["no_log"] is True
    assert set(spec) == {"database_url", "env_file", "connect_timeout"}
