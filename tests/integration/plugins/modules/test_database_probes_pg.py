# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""prisma_migrations_info and app_database_info against a real PostgreSQL.

Needs NEKOMORTO_TEST_PG_URL, a superuser URL such as postgresql://postgres:pw@127.0.0.1:55430/postgres.
Each test module run creates a throwaway database and an app role, and drops both at the end.
Without the variable every test here FAILS (it does not skip), so that a run that was meant to
exercise PostgreSQL cannot pass silently.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import typing as t
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import (
    DatabaseQueryError,
    PostgresSession,
    parse_database_url,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._prisma import migration_checksum
from ansible_collections.nekomorto.ops.plugins.modules import app_database_info, prisma_migrations_info
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.probe_harness import run_module


PG_URL_VARIABLE = "NEKOMORTO_TEST_PG_URL"
# What Prisma 7.8.0's `migrate deploy` creates (taken from a database it initialised).
PRISMA_MIGRATIONS_DDL = """
CREATE TABLE {schema}._prisma_migrations (
    id character varying(36) NOT NULL PRIMARY KEY,
    checksum character varying(64) NOT NULL,
    finished_at timestamp with time zone,
    migration_name character varying(255) NOT NULL,
    logs text,
    rolled_back_at timestamp with time zone,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_steps_count integer DEFAULT 0 NOT NULL
)
"""
# The test bed's stand-in for Prisma's schema engine, and the Prisma CLI installed beside it.
_REPOSITORY = Path(__file__).resolve().parents[4]
_SCHEMA_ENGINE = _REPOSITORY / "tests" / "support" / "prisma-schema-engine" / "schema-engine"
_PRISMA_CLI = _REPOSITORY / "tests" / "support" / "prisma-schema-engine" / "node_modules" / ".bin" / "prisma"


class Sandbox:
    """A throwaway database with an app role, reachable as the app reaches it."""

    def __init__(self, admin_url: str) -> None:
        self.admin = parse_database_url(admin_url)
        suffix = uuid.uuid4().hex[:10]
        self.database = f"nekomorto_probe_{suffix}"
        self.app_user = f"nekomorto_probe_app_{suffix}"
        # Characters that must be percent-encoded in a URL, to prove the decoding.
        self.app_password = f"p@ss:w/rd#{secrets.token_hex(4)}%"

    def _admin_connection(self, dbname: str | None = None) -> t.Any:
        kwargs = self.admin.connect_kwargs(10, "nekomorto.ops tests")
        if dbname:
            kwargs["dbname"] = dbname
        connection = psycopg2.connect(**kwargs)
        connection.autocommit = True
        return connection

    def _admin(self, *statements: tuple[str, t.Sequence[t.Any] | None]) -> None:
        # Not `with connection:`, which opens a transaction that CREATE DATABASE refuses.
        connection = self._admin_connection()
        try:
            with connection.cursor() as cursor:
                for statement, args in statements:
                    cursor.execute(statement, args)
        finally:
            connection.close()

    def create(self) -> None:
        self._admin(
            (f'CREATE ROLE "{self.app_user}" LOGIN PASSWORD %s', (self.app_password,)),
            (f'CREATE DATABASE "{self.database}" OWNER "{self.app_user}"', None),
        )

    def drop(self) -> None:
        self._admin(
            (f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)', None),
            (f'DROP ROLE IF EXISTS "{self.app_user}"', None),
        )

    def sql(self, statement: str, args: t.Sequence[t.Any] | None = None, as_app: bool = False) -> None:
        if as_app:
            connection = psycopg2.connect(self.url(), connect_timeout=10)
            connection.autocommit = True
        else:
            connection = self._admin_connection(self.database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, args)
        finally:
            connection.close()

    def url(self, password: str | None = None, database: str | None = None, query: str = "") -> str:
        host = self.admin.host or "127.0.0.1"
        port = self.admin.port or "5432"
        secret = quote(self.app_password if password is None else password, safe="")
        return f"postgresql://{quote(self.app_user, safe='')}:{secret}@{host}:{port}/{database or self.database}{query}"

    def env_file(self, directory: Path, query: str = "") -> str:
        path = directory / ".env"
        path.write_text(f'NODE_ENV=production\nexport DATABASE_URL="{self.url(query=query)}"\nSESSION_TABLE=user_sessions\n')
        return str(path)


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[Sandbox]:
    admin_url = os.environ.get(PG_URL_VARIABLE)
    if not admin_url:
        pytest.fail(
            f"{PG_URL_VARIABLE} is not set: these tests need a PostgreSQL superuser URL, for example "
            f"{PG_URL_VARIABLE}=postgresql://postgres:secret@127.0.0.1:55430/postgres",
            pytrace=False,
        )
    box = Sandbox(admin_url)
    box.create()
    yield box
    box.drop()


@pytest.fixture
def fresh_schema(sandbox: Sandbox) -> t.Iterator[Sandbox]:
    """The sandbox with empty public and app schemas."""
    for schema in ("public", "app"):
        sandbox.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        sandbox.sql(f'CREATE SCHEMA {schema} AUTHORIZATION "{sandbox.app_user}"')
    yield sandbox


# ---------------------------------------------------------------------------------------------
# app_database_info


def test_database_info_as_the_app(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    box.sql('CREATE TABLE user_sessions (sid varchar PRIMARY KEY, sess json NOT NULL, expire timestamp(6) NOT NULL)', as_app=True)
    box.sql("CREATE TABLE posts (id serial PRIMARY KEY, title text)", as_app=True)
    box.sql("INSERT INTO posts (title) SELECT 'post ' || n FROM generate_series(1, 3) AS n", as_app=True)
    outcome = run_module(app_database_info.main, {"env_file": box.env_file(tmp_path), "row_counts": True})
    assert not outcome.failed, outcome.result.get("msg")
    result = outcome.result
    assert result["changed"] is False
    assert result["database"] == box.database
    assert result["user"] == box.app_user
    assert result["schema"] == "public"
    assert result["database_size_bytes"] > 0
    assert result["session_table"] == "user_sessions" and result["session_table_exists"] is True
    assert result["row_counts"] == {"posts": 3, "user_sessions": 0}
    version = result["server_version"]
    assert version["major"] == version["num"] // 10000 >= 10
    assert version["string"].startswith(str(version["major"]))
    assert box.app_password not in repr(result)


def test_database_info_without_row_counts_and_custom_session_table(fresh_schema: Sandbox, tmp_path: Path) -> None:
    outcome = run_module(app_database_info.main, {"env_file": fresh_schema.env_file(tmp_path), "session_table": "sessions"})
    assert not outcome.failed
    assert outcome.result["row_counts"] is None
    assert outcome.result["session_table"] == "sessions"
    assert outcome.result["session_table_exists"] is False


def test_database_info_in_the_url_schema(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    box.sql("CREATE TABLE app.user_sessions (sid varchar PRIMARY KEY)", as_app=True)
    box.sql("CREATE TABLE app.items (id int)", as_app=True)
    box.sql("INSERT INTO app.items VALUES (1), (2)", as_app=True)
    box.sql("CREATE TABLE public.other (id int)", as_app=True)
    outcome = run_module(
        app_database_info.main,
        {"database_url": box.url(query="?schema=app&connection_limit=3"), "row_counts": True},
    )
    assert not outcome.failed, outcome.result.get("msg")
    assert outcome.result["schema"] == "app"
    assert outcome.result["session_table_exists"] is True
    assert outcome.result["row_counts"] == {"items": 2, "user_sessions": 0}
    assert outcome.result["queries"][0] == 'SET search_path TO "app"'


def test_wrong_password_is_named_without_printing_it(sandbox: Sandbox) -> None:
    wrong = "not-the-password-42"
    outcome = run_module(app_database_info.main, {"database_url": sandbox.url(password=wrong)})
    assert outcome.failed
    host, port = sandbox.admin.host or "127.0.0.1", sandbox.admin.port or "5432"
    assert outcome.result["msg"] == (
        f'cannot connect to PostgreSQL at {host}:{port} as {sandbox.app_user}: '
        f'password authentication failed for user "{sandbox.app_user}"'
    )
    assert wrong not in repr(outcome.result)


def test_missing_database_is_named(sandbox: Sandbox) -> None:
    outcome = run_module(app_database_info.main, {"database_url": sandbox.url(database=f"{sandbox.database}_missing")})
    assert outcome.failed
    assert outcome.result["msg"].endswith(f': database "{sandbox.database}_missing" does not exist')


def test_the_session_is_read_only(fresh_schema: Sandbox) -> None:
    with PostgresSession(parse_database_url(fresh_schema.url()), 5, "nekomorto.ops tests") as session:
        assert session.fetch_value("SHOW default_transaction_read_only") == "on"
        with pytest.raises(DatabaseQueryError, match="read-only transaction"):
            session.execute("CREATE TABLE public.should_not_exist (id int)")


# ---------------------------------------------------------------------------------------------
# prisma_migrations_info


def _write_migrations(directory: Path, scripts: dict[str, str]) -> str:
    migrations = directory / "prisma" / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    for name, script in scripts.items():
        (migrations / name).mkdir(exist_ok=True)
        (migrations / name / "migration.sql").write_bytes(script.encode("utf-8"))
    return str(migrations)


def _record(box: Sandbox, name: str, script: str, minute: int, finished: bool = True, rolled_back: bool = False,
            logs: str | None = None, schema: str = "public") -> None:
    box.sql(
        f"INSERT INTO {schema}._prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at,"
        " applied_steps_count) VALUES (%s, %s, CASE WHEN %s THEN now() END, %s, %s, CASE WHEN %s THEN now() END,"
        " timestamptz '2026-05-19 10:00+00' + make_interval(mins => %s), %s)",
        (str(uuid.uuid4()), migration_checksum(script), finished, name, logs, rolled_back, minute, 1 if finished else 0),
    )


SCRIPTS = {
    "20260101000000_init": 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n',
    "20260201000000_user_sessions": 'CREATE TABLE "user_sessions" ("sid" varchar PRIMARY KEY);\n',
    "20260301000000_posts": 'CREATE TABLE "posts" ("id" SERIAL PRIMARY KEY);\n',
    "20260401000000_uploads": 'CREATE TABLE "uploads" ("url" text UNIQUE);\n',
}


def test_database_not_managed_by_prisma_yet(fresh_schema: Sandbox, tmp_path: Path) -> None:
    migrations_dir = _write_migrations(tmp_path, SCRIPTS)
    outcome = run_module(prisma_migrations_info.main, {"env_file": fresh_schema.env_file(tmp_path), "migrations_dir": migrations_dir})
    assert not outcome.failed, outcome.result.get("msg")
    result = outcome.result
    assert result["database_reachable"] is True
    assert result["table_exists"] is False
    assert result["pending"] == list(SCRIPTS)
    assert result["summary"].startswith("No _prisma_migrations table in schema public")


def test_migration_history_is_classified(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="public"), as_app=True)
    local = dict(SCRIPTS)
    local["20260101000000_init"] = local["20260101000000_init"].replace("\n", "\r\n")  # only line endings: not modified
    local["20260201000000_user_sessions"] += "-- edited after deploy\n"
    migrations_dir = _write_migrations(tmp_path, local)
    _record(box, "20260101000000_init", SCRIPTS["20260101000000_init"], 0)
    _record(box, "20260201000000_user_sessions", SCRIPTS["20260201000000_user_sessions"], 1)
    _record(box, "20260215000000_hotfix", "-- gone\n", 2)
    _record(box, "20260301000000_posts", "-- first try\n", 3, finished=False, rolled_back=True, logs="ERROR: syntax error")
    _record(box, "20260301000000_posts", SCRIPTS["20260301000000_posts"], 4)
    _record(box, "20260401000000_uploads", SCRIPTS["20260401000000_uploads"], 5, finished=False, logs='ERROR: relation "uploads" already exists')

    outcome = run_module(prisma_migrations_info.main, {"env_file": box.env_file(tmp_path), "migrations_dir": migrations_dir})
    assert not outcome.failed, outcome.result.get("msg")
    result = outcome.result
    assert result["table_exists"] is True
    assert result["applied"] == ["20260101000000_init", "20260201000000_user_sessions", "20260215000000_hotfix", "20260301000000_posts"]
    assert result["pending"] == []
    assert [entry["name"] for entry in result["failed_migrations"]] == ["20260401000000_uploads"]
    assert result["failed_migrations"][0]["logs"] == 'ERROR: relation "uploads" already exists'
    assert result["failed_migrations"][0]["started_at"].startswith("2026-05-19T10:05:00")
    assert result["rolled_back"] == []
    assert result["modified"] == ["20260201000000_user_sessions"]
    assert result["missing_locally"] == ["20260215000000_hotfix"]
    assert len(result["resolve_hints"]) == 2
    assert result["summary"].startswith("Failed: 20260401000000_uploads (migrate deploy refuses to run, P3009")
    assert result["changed"] is False


def _commit(repo: Path, message: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "HOME": str(repo), "PATH": os.environ["PATH"]}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--allow-empty", "-m", message]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def test_migrations_read_from_a_commit_without_a_checkout(fresh_schema: Sandbox, tmp_path: Path) -> None:
    """The check-mode plan of a release not built yet: the release's migrations come from the mirror's commit."""
    box = fresh_schema
    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="public"), as_app=True)
    repo = tmp_path / "repo"
    local = dict(SCRIPTS)
    local["20260201000000_user_sessions"] += "-- edited after deploy\n"
    _write_migrations(repo, local)
    edited = _commit(repo, "edited")
    _record(box, "20260101000000_init", SCRIPTS["20260101000000_init"], 0)
    _record(box, "20260201000000_user_sessions", SCRIPTS["20260201000000_user_sessions"], 1)
    _record(box, "20260215000000_hotfix", "-- gone\n", 2)
    args = {"env_file": box.env_file(tmp_path), "migrations_git_dir": str(repo), "migrations_git_commit": edited}
    outcome = run_module(prisma_migrations_info.main, args, check_mode=True)
    assert not outcome.failed, outcome.result.get("msg")
    assert outcome.result["local"] == list(SCRIPTS)
    assert outcome.result["modified"] == ["20260201000000_user_sessions"]
    assert outcome.result["pending"] == ["20260301000000_posts", "20260401000000_uploads"]
    assert outcome.result["missing_locally"] == ["20260215000000_hotfix"]

    shutil.rmtree(repo / "prisma")
    (repo / "README").write_text("no migrations any more\n")
    bare = run_module(prisma_migrations_info.main, {**args, "migrations_git_commit": _commit(repo, "none")})
    assert not bare.failed, bare.result.get("msg")
    assert bare.result["local"] == [] and bare.result["pending"] == []
    assert bare.result["missing_locally"] == ["20260101000000_init", "20260201000000_user_sessions", "20260215000000_hotfix"]

    unknown = run_module(prisma_migrations_info.main, {**args, "migrations_git_commit": "0" * 40})
    assert unknown.failed
    assert f"the repository {repo} has no commit {'0' * 40}" in unknown.result["msg"]


def test_database_side_only_for_a_preflight(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="public"), as_app=True)
    _record(box, "20260101000000_init", SCRIPTS["20260101000000_init"], 0)
    _record(box, "20260201000000_user_sessions", SCRIPTS["20260201000000_user_sessions"], 1, finished=False, logs="ERROR: boom")
    outcome = run_module(prisma_migrations_info.main, {"env_file": box.env_file(tmp_path)})
    assert not outcome.failed, outcome.result.get("msg")
    result = outcome.result
    assert result["applied"] == ["20260101000000_init"]
    assert [entry["name"] for entry in result["failed_migrations"]] == ["20260201000000_user_sessions"]
    assert (result["local"], result["pending"], result["modified"], result["missing_locally"]) == ([], [], [], [])


def test_database_info_reads_the_migration_history_in_the_same_session(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    env_file = box.env_file(tmp_path)
    never_migrated = run_module(app_database_info.main, {"env_file": env_file, "migrations": True})
    assert not never_migrated.failed, never_migrated.result.get("msg")
    assert never_migrated.result["migrations"] == {"table_exists": False, "applied": [], "failed_migrations": [], "rolled_back": [],
                                                   "resolve_hints": []}

    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="public"), as_app=True)
    _record(box, "20260101000000_init", SCRIPTS["20260101000000_init"], 0)
    _record(box, "20260201000000_user_sessions", SCRIPTS["20260201000000_user_sessions"], 1, finished=False, logs="ERROR: boom")
    _record(box, "20260301000000_posts", SCRIPTS["20260301000000_posts"], 2, finished=False, rolled_back=True)
    outcome = run_module(app_database_info.main, {"env_file": env_file, "migrations": True})
    assert not outcome.failed, outcome.result.get("msg")
    history = outcome.result["migrations"]
    assert history["table_exists"] is True
    assert history["applied"] == ["20260101000000_init"]
    assert history["rolled_back"] == ["20260301000000_posts"]
    assert [(entry["name"], entry["logs"]) for entry in history["failed_migrations"]] == [("20260201000000_user_sessions", "ERROR: boom")]
    assert [hint.split(":")[0] for hint in history["resolve_hints"]] == ["20260201000000_user_sessions"] * 2
    assert "--rolled-back 20260201000000_user_sessions" in history["resolve_hints"][0]
    assert "--applied 20260201000000_user_sessions" in history["resolve_hints"][1]
    # Read in the session that checked the credentials, after it.
    assert any(query.startswith("SELECT migration_name") for query in outcome.result["queries"][1:])
    assert run_module(app_database_info.main, {"env_file": env_file}).result["migrations"] is None


def test_pending_and_rolled_back_in_a_url_schema(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="app"), as_app=True)
    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="public"), as_app=True)
    _record(box, "20260101000000_init", SCRIPTS["20260101000000_init"], 0, schema="app")
    _record(box, "20260201000000_user_sessions", SCRIPTS["20260201000000_user_sessions"], 1, finished=False, rolled_back=True,
            schema="app")
    migrations_dir = _write_migrations(tmp_path, SCRIPTS)
    outcome = run_module(
        prisma_migrations_info.main,
        {"database_url": box.url(query="?schema=app"), "migrations_dir": migrations_dir},
    )
    assert not outcome.failed, outcome.result.get("msg")
    result = outcome.result
    assert result["schema"] == "app"
    assert result["applied"] == ["20260101000000_init"]
    assert result["rolled_back"] == ["20260201000000_user_sessions"]
    assert result["pending"] == ["20260201000000_user_sessions", "20260301000000_posts", "20260401000000_uploads"]
    assert result["summary"] == (
        "3 of 4 migrations pending: 20260201000000_user_sessions, 20260301000000_posts, 20260401000000_uploads."
    )


def test_unreadable_migrations_table_fails_clearly(fresh_schema: Sandbox, tmp_path: Path) -> None:
    box = fresh_schema
    box.sql(PRISMA_MIGRATIONS_DDL.format(schema="public"))  # created by the superuser: the app role has no grant on it
    migrations_dir = _write_migrations(tmp_path, SCRIPTS)
    outcome = run_module(prisma_migrations_info.main, {"env_file": box.env_file(tmp_path), "migrations_dir": migrations_dir})
    assert outcome.failed
    assert outcome.result["msg"].startswith("cannot read public._prisma_migrations (does this user have SELECT on it?): ")
    assert "permission denied" in outcome.result["msg"]
    assert outcome.result["database_reachable"] is True


# ---------------------------------------------------------------------------------------------
# Cross-check with the real Prisma CLI, when the test bed's schema engine and CLI are installed.


def _prisma(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(project),
        "DATABASE_URL": url,
        "PRISMA_SCHEMA_ENGINE_BINARY": str(_SCHEMA_ENGINE),
        "CHECKPOINT_DISABLE": "1",
        "PRISMA_HIDE_UPDATE_MESSAGE": "1",
    }
    return subprocess.run(
        [str(_PRISMA_CLI), *args], cwd=project, env=environment, capture_output=True, text=True, timeout=180, check=False
    )


def test_agrees_with_prisma_migrate_deploy(fresh_schema: Sandbox, tmp_path: Path) -> None:
    if not (_SCHEMA_ENGINE.is_file() and _PRISMA_CLI.exists() and shutil.which("node")):
        pytest.skip(f"the Prisma CLI ({_PRISMA_CLI}) and schema engine ({_SCHEMA_ENGINE}) are not installed")
    box = fresh_schema
    project = tmp_path / "release"
    project.mkdir()
    (project / "node_modules").symlink_to(_PRISMA_CLI.parents[1])
    (project / "prisma").mkdir()
    (project / "prisma" / "schema.prisma").write_text('datasource db {\n  provider = "postgresql"\n}\n')
    (project / "prisma.config.mjs").write_text(
        'import { defineConfig, env } from "prisma/config";\n'
        'export default defineConfig({ schema: "prisma/schema.prisma", migrations: { path: "prisma/migrations" },'
        ' datasource: { url: env("DATABASE_URL") } });\n'
    )
    scripts = {
        "20260101000000_init": '-- ção ☕\r\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\r\n',
        "20260201000000_broken": 'CREATE TABLE "User" ("id" int);\n',
    }
    migrations_dir = _write_migrations(project, scripts)
    deploy = _prisma(project, box.url(), "migrate", "deploy")
    assert deploy.returncode != 0 and "P3018" in deploy.stdout + deploy.stderr, deploy.stdout + deploy.stderr

    args = {"database_url": box.url(), "migrations_dir": migrations_dir}
    result = run_module(prisma_migrations_info.main, args).result
    assert result["applied"] == ["20260101000000_init"]
    assert result["modified"] == []  # the checksum Prisma stored is the one we compute
    assert [entry["name"] for entry in result["failed_migrations"]] == ["20260201000000_broken"]
    assert "already exists" in result["failed_migrations"][0]["logs"]

    resolve = _prisma(project, box.url(), "migrate", "resolve", "--rolled-back", "20260201000000_broken")
    assert resolve.returncode == 0, resolve.stdout + resolve.stderr
    result = run_module(prisma_migrations_info.main, args).result
    assert result["rolled_back"] == ["20260201000000_broken"] and result["pending"] == ["20260201000000_broken"]

    (Path(migrations_dir) / "20260201000000_broken" / "migration.sql").write_text('CREATE TABLE "Fixed" ("id" int);\n')
    deploy = _prisma(project, box.url(), "migrate", "deploy")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    result = run_module(prisma_migrations_info.main, args).result
    assert result["applied"] == ["20260101000000_init", "20260201000000_broken"]
    assert (result["pending"], result["failed_migrations"], result["rolled_back"], result["modified"]) == ([], [], [], [])
    assert result["summary"] == "Database schema is up to date: all 2 migrations applied."
