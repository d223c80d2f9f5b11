# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PostgreSQL client helpers: versions, the connection without its password, the table of contents,
and the SQL wrapped around a restore."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._pg_tools import (
    RESTORE_COMPLETE_SETTING,
    ClientSession,
    ToolError,
    ToolVersion,
    build_conninfo,
    check_restored_sql,
    clean_schemas_sql,
    connection_password,
    dump_version_problem,
    find_program,
    parse_toc,
    parse_tool_version,
    parse_version_string,
    pgpass_line,
    program_version,
    large_objects_problem,
    restore_use_list,
    restore_version_problem,
    service_file_text,
    service_options,
    tail,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import parse_database_url

TOC = """;
; Archive created at 2026-11-29 01:23:50 UTC
;     dbname: appdb
;     TOC Entries: 25
;     Compression: gzip
;     Dump Version: 1.16-0
;     Format: CUSTOM
;     Integer: 4 bytes
;     Offset: 8 bytes
;     Dumped from database version: 17.12 (Debian 17.12-0+deb13u1)
;     Dumped by pg_dump version: 17.12 (Debian 17.12-0+deb13u1)
;
;
; Selected TOC Entries:
;
6; 2615 16500 SCHEMA - reporting app
3470; 0 0 COMMENT - SCHEMA reporting app
2; 3079 16384 EXTENSION - pgcrypto{EMPTY_OWNER}
3471; 0 0 COMMENT - EXTENSION pgcrypto{EMPTY_OWNER}
855; 1247 16397 TYPE public mood app
223; 1255 16430 FUNCTION public f_count() app
221; 1259 16417 TABLE public _prisma_migrations app
220; 1259 16404 TABLE public posts app
219; 1259 16403 SEQUENCE public posts_id_seq app
3458; 0 0 SEQUENCE OWNED BY public posts_id_seq app
230; 1259 16510 TABLE reporting daily totals app
3291; 2604 16407 DEFAULT public posts id app
3451; 0 16417 TABLE DATA public _prisma_migrations app
3450; 0 16404 TABLE DATA public posts app
3452; 0 16510 TABLE DATA reporting daily totals app
3460; 0 0 SEQUENCE SET public posts_id_seq app
3297; 2606 16411 CONSTRAINT public posts posts_pkey app
3300; 2606 16412 FK CONSTRAINT public posts posts_user_id_fkey app
3472; 0 0 ACL - SCHEMA reporting app
3473; 0 0 ACL public TABLE posts app
""".format(EMPTY_OWNER=" ")  # pg_restore ends the line of an entry without owner with a space


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pg_dump (PostgreSQL) 17.12 (Debian 17.12-0+deb13u1)\n", ToolVersion(17, 12)),
        ("pg_restore (PostgreSQL) 15.18\n", ToolVersion(15, 18)),
        ("psql (PostgreSQL) 18beta1\n", ToolVersion(18, 0)),
        ("pg_dump (PostgreSQL) 9.6.24\n", ToolVersion(9, 6)),
    ],
)
def test_parse_tool_version(text: str, expected: ToolVersion) -> None:
    assert parse_tool_version(text) == expected


def test_parse_tool_version_refuses_other_programs() -> None:
    with pytest.raises(ValueError, match="cannot read a PostgreSQL version"):
        parse_tool_version("mysqldump  Ver 10.19 Distrib 10.11.6-MariaDB")


@pytest.mark.parametrize(("text", "expected"), [("17.12 (Debian 17.12-0+deb13u1)", ToolVersion(17, 12)), ("16", ToolVersion(16, 0))])
def test_parse_version_string(text: str, expected: ToolVersion) -> None:
    assert parse_version_string(text) == expected


@pytest.mark.parametrize(
    ("client", "server_num", "refused"),
    [
        (ToolVersion(17, 12), 170006, False),
        (ToolVersion(17, 0), 170012, False),  # same major: fine whatever the minor
        (ToolVersion(18, 1), 170012, False),  # newer client: fine
        (ToolVersion(15, 18), 170012, True),
        (ToolVersion(16, 4), 170000, True),
    ],
)
def test_dump_version_rule(client: ToolVersion, server_num: int, refused: bool) -> None:
    problem = dump_version_problem(client, "/usr/bin/pg_dump", "17.x", server_num)
    assert (problem is not None) == refused
    if refused:
        assert f"pg_dump {client} (/usr/bin/pg_dump) is older than the database server" in problem
        assert "postgresql-client-17" in problem and "bin_dir" in problem


def test_restore_version_rule() -> None:
    assert restore_version_problem(ToolVersion(17, 2), "/usr/bin/pg_restore", ToolVersion(17, 12)) is None
    assert restore_version_problem(ToolVersion(17, 2), "/usr/bin/pg_restore", None) is None
    problem = restore_version_problem(ToolVersion(15, 18), "/usr/bin/pg_restore", ToolVersion(17, 12))
    assert problem is not None and "postgresql-client-17" in problem


def test_conninfo_never_holds_the_password() -> None:
    params = parse_database_url(
        "postgresql://app:S3cr%27t%5C@db.internal:5433/nekomorto?schema=app&sslmode=require&password=other&application_name=x"
    )
    conninfo = build_conninfo(params, 7, "nekomorto.ops.pg_dump")
    assert "S3cr" not in conninfo and "other" not in conninfo
    assert conninfo == (
        "host='db.internal' port='5433' user='app' dbname='nekomorto' sslmode='require' "
        "application_name='x' connect_timeout='7'"
    )


def test_conninfo_sends_sslpassword_through_a_service_file() -> None:
    params = parse_database_url("postgresql://app:pw@db/nekomorto?sslmode=verify-full&sslkey=/k.pem&sslpassword=K3y-pass")
    conninfo = build_conninfo(params, None, "app")
    assert "K3y-pass" not in conninfo and "sslpassword" not in conninfo
    assert "sslkey='/k.pem'" in conninfo and "service='nekomorto-ops'" in conninfo
    assert service_options(params) == {"sslpassword": "K3y-pass"}
    assert service_file_text(service_options(params)) == "[nekomorto-ops]\nsslpassword=K3y-pass\n"
    assert service_options(parse_database_url("postgresql://app:pw@db/nekomorto")) == {}
    assert "service=" not in build_conninfo(parse_database_url("postgresql://app:pw@db/nekomorto"), None, "app")


def test_conninfo_refuses_a_service_beside_sslpassword() -> None:
    params = parse_database_url("postgresql://app@db/nekomorto?service=prod&sslpassword=x")
    with pytest.raises(ToolError, match="both service and sslpassword"):
        build_conninfo(params, None, "app")


@pytest.mark.parametrize("value", ["two\nlines", " leading", "trailing "])
def test_service_file_refuses_what_it_cannot_hold(value: str) -> None:
    with pytest.raises(ToolError, match="sslpassword option contains"):
        service_file_text({"sslpassword": value})


def test_conninfo_quotes_values() -> None:
    params = parse_database_url("postgresql://o%27neil@localhost/my%20db")
    assert "user='o\\'neil'" in build_conninfo(params, None, "app")
    assert "dbname='my db'" in build_conninfo(params, None, "app")
    assert build_conninfo(params, None, "app").endswith("application_name='app'")


def test_connection_password_from_the_url_or_a_parameter() -> None:
    assert connection_password(parse_database_url("postgresql://app:pw@h/db")) == "pw"
    assert connection_password(parse_database_url("postgresql://app@h/db?password=qs")) == "qs"
    assert connection_password(parse_database_url("postgresql://app@h/db")) is None


def test_pgpass_line_escapes() -> None:
    assert pgpass_line("a:b\\c") == "*:*:*:*:a\\:b\\\\c\n"
    with pytest.raises(ToolError, match="line break"):
        pgpass_line("two\nlines")


def test_client_session_keeps_the_password_in_a_private_file() -> None:
    with ClientSession("p:w") as client:
        folder = client.directory
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(client.pgpass_path).st_mode) == 0o600
        assert Path(client.pgpass_path).read_text() == "*:*:*:*:p\\:w\n"
        environment = client.environment()
        assert environment["PGPASSFILE"] == client.pgpass_path
        assert "p:w" not in "".join(environment.values())
    assert not os.path.exists(folder)


def test_client_session_keeps_the_other_secrets_in_a_private_service_file() -> None:
    with ClientSession(None, {"sslpassword": "K3y"}) as client:
        assert stat.S_IMODE(os.stat(client.service_path).st_mode) == 0o600
        assert Path(client.service_path).read_text() == "[nekomorto-ops]\nsslpassword=K3y\n"
        environment = client.environment()
        assert environment["PGSERVICEFILE"] == client.service_path
        assert "K3y" not in "".join(environment.values())
    with ClientSession("pw") as client:
        assert "PGSERVICEFILE" not in client.environment()


def test_client_session_leaves_nothing_when_a_secret_cannot_be_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ToolError, match="line break"):
        with ClientSession("pw", {"sslpassword": "two\nlines"}):
            pass
    assert list(tmp_path.iterdir()) == []


def test_client_environment_drops_stray_pg_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "leak")
    monkeypatch.setenv("PGSERVICE", "other")
    with ClientSession(None) as client:
        environment = client.environment()
    assert "PGPASSWORD" not in environment and "PGSERVICE" not in environment
    assert environment["PGPASSFILE"] == os.devnull and environment["LC_ALL"] == "C"


def test_find_program(tmp_path: Path) -> None:
    program = tmp_path / "pg_dump"
    program.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 17.4'\n")
    program.chmod(0o755)
    assert find_program("pg_dump", str(tmp_path), lambda name: None) == str(program)
    assert program_version(str(program)) == ToolVersion(17, 4)
    with pytest.raises(ToolError, match="not an executable in bin_dir"):
        find_program("psql", str(tmp_path), lambda name: None)
    with pytest.raises(ToolError, match="postgresql-client"):
        find_program("psql", None, lambda name: None)
    assert find_program("psql", None, lambda name: "/usr/bin/psql") == "/usr/bin/psql"


def test_program_version_reports_a_failing_program(tmp_path: Path) -> None:
    program = tmp_path / "pg_dump"
    program.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    program.chmod(0o755)
    with pytest.raises(ToolError, match="failed \\(exit 3\\): broken"):
        program_version(str(program))


def test_tail_redacts() -> None:
    assert tail("a\n\nb\nsecret c\n", lines=2, secret="secret") == "b / ******** c"


def test_parse_toc() -> None:
    toc = parse_toc(TOC)
    assert toc.dumped_by == ToolVersion(17, 12)
    assert toc.dumped_from.startswith("17.12")
    assert toc.header["Format"] == "CUSTOM" and toc.header["TOC Entries"] == "25"
    assert toc.table_data == [("public", "_prisma_migrations"), ("public", "posts"), ("reporting", "daily totals")]
    assert toc.schemas == ["reporting", "public"]
    kinds = {entry.kind for entry in toc.entries}
    assert {"SEQUENCE OWNED BY", "FK CONSTRAINT", "TABLE DATA", "SEQUENCE SET", "EXTENSION", "ACL"} <= kinds
    constraint = next(entry for entry in toc.entries if entry.kind == "FK CONSTRAINT")
    assert (constraint.namespace, constraint.name, constraint.owner) == ("public", "posts posts_user_id_fkey", "app")


@pytest.mark.parametrize(
    "lines",
    [
        ["3474; 2613 16600 BLOB - 16600 app", "3475; 0 0 BLOBS - BLOBS "],  # pg_dump up to 16
        ["3474; 0 0 BLOB METADATA - BLOB METADATA app", "3475; 0 0 LARGE OBJECTS - LARGE OBJECTS "],  # 17
    ],
)
def test_large_objects_are_a_problem_for_a_one_transaction_restore(lines: list[str]) -> None:
    assert large_objects_problem(parse_toc(TOC)) is None
    problem = large_objects_problem(parse_toc(TOC + "\n".join(lines) + "\n"))
    assert problem and problem.startswith("the archive holds large objects")


def test_use_list_leaves_schemas_and_extensions_alone() -> None:
    lines = restore_use_list(parse_toc(TOC)).splitlines()
    skipped = [line for line in lines if line.startswith(";")]
    assert skipped == [
        ";6; 2615 16500 SCHEMA - reporting app",
        ";3470; 0 0 COMMENT - SCHEMA reporting app",
        ";3471; 0 0 COMMENT - EXTENSION pgcrypto ",
        ";3472; 0 0 ACL - SCHEMA reporting app",
    ]
    assert "2; 3079 16384 EXTENSION - pgcrypto " in lines
    assert "3473; 0 0 ACL public TABLE posts app" in lines
    assert len(lines) == len(parse_toc(TOC).entries)


def test_clean_sql_drops_the_content_of_the_schemas_only() -> None:
    sql = clean_schemas_sql(["public", 'we"ird'], 45)
    assert sql.startswith("SET lock_timeout = '45s';\n")
    assert 'CREATE SCHEMA IF NOT EXISTS "public";' in sql and 'CREATE SCHEMA IF NOT EXISTS "we""ird";' in sql
    assert "ARRAY['public', 'we\"ird']::text[]" in sql
    assert "d.deptype = 'e'" in sql  # extension members are kept
    assert "DROP SCHEMA" not in sql
    assert sql.count("$nekomorto_ops$") == 2


def test_check_sql_requires_the_marker_and_the_counts() -> None:
    sql = check_restored_sql([{"schema": "public", "name": "users", "rows": 5}, {"schema": "a'b", "name": 't"x', "rows": "0"}])
    assert f"current_setting('{RESTORE_COMPLETE_SETTING}', true) IS DISTINCT FROM 'yes'" in sql
    assert 'SELECT count(*) INTO found FROM "public"."users";' in sql and "IF found <> 5 THEN" in sql
    assert 'FROM "a\'b"."t""x";' in sql and "'a''b.t\"x'" in sql
    assert "RAISE EXCEPTION 'nekomorto.ops: the restored data differs from the backup: %'" in sql


def test_check_sql_without_tables_still_checks_the_marker() -> None:
    sql = check_restored_sql([])
    assert "did not arrive complete" in sql and "count(*)" not in sql
