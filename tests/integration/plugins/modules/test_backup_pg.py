# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pg_dump, pg_restore and uploads_archive against a real PostgreSQL, with real client programs.

Needs NEKOMORTO_TEST_PG_URL (a superuser URL) and the container `scripts/testbed/pg.sh start` runs
(NEKOMORTO_TEST_PG_CONTAINER, default nekomorto-testpg): the modules run THERE, through Ansible's
docker connection, because its PostgreSQL client matches the server (pg_dump refuses newer servers).
Only the version check runs on this machine, in-process, with stand-in programs. Without the
variable every test here FAILS (it does not skip).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import typing as t
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._postgres import parse_database_url
from ansible_collections.nekomorto.ops.plugins.modules import pg_dump
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.probe_harness import run_module

PG_URL_VARIABLE = "NEKOMORTO_TEST_PG_URL"
CONTAINER = os.environ.get("NEKOMORTO_TEST_PG_CONTAINER", "nekomorto-testpg")
REPOSITORY = Path(__file__).resolve().parents[4]
WORK = "/tmp/nekomorto-backup-tests"

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL UNIQUE, data jsonb NOT NULL DEFAULT '{}');
CREATE TABLE posts (id serial PRIMARY KEY, user_id int REFERENCES users(id), mood mood, body text, tags text[]);
CREATE INDEX posts_mood ON posts (mood);
CREATE VIEW happy_posts AS SELECT * FROM posts WHERE mood = 'happy';
CREATE FUNCTION post_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM posts';
CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
  migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
  applied_steps_count int NOT NULL DEFAULT 0);
INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
  VALUES ('m1', repeat('a', 64), now(), '20260101000000_init', 1);
INSERT INTO users (name, data) SELECT 'user' || g, jsonb_build_object('n', g) FROM generate_series(1, 40) g;
INSERT INTO posts (user_id, mood, body, tags)
  SELECT (g % 40) + 1, (ARRAY['sad', 'ok', 'happy'])[(g % 3) + 1]::mood, repeat('x', g), ARRAY['t' || g] FROM generate_series(1, 300) g;
"""
# What a newer release does after the backup: a new table depending on an old one, a new column, new rows.
NEWER = """
ALTER TABLE posts ADD COLUMN featured boolean NOT NULL DEFAULT false;
CREATE TABLE post_tags (id serial PRIMARY KEY, post_id int NOT NULL REFERENCES posts(id), tag text);
INSERT INTO post_tags (post_id, tag) SELECT id, 'new' FROM posts LIMIT 10;
DELETE FROM posts WHERE id > 290;
INSERT INTO users (name) VALUES ('after the backup');
INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
  VALUES ('m2', repeat('b', 64), now(), '20260201000000_tags', 1);
"""
CONTENT = """
SELECT c.relname, count(*) OVER (PARTITION BY c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S')
"""


class Sandbox:
    """A throwaway database and app role; the modules reach it from the container as the app would."""

    def __init__(self, admin_url: str) -> None:
        self.admin = parse_database_url(admin_url)
        suffix = uuid.uuid4().hex[:10]
        self.database = f"nekomorto_backup_{suffix}"
        self.app_user = f"nekomorto_backup_app_{suffix}"
        self.app_password = f"p@ss:w/rd#{secrets.token_hex(4)}%'\\"

    def _connect(self, dbname: str | None = None, as_app: bool = False) -> t.Any:
        if as_app:
            connection = psycopg2.connect(self.url(), connect_timeout=10)
        else:
            kwargs = self.admin.connect_kwargs(10, "nekomorto.ops tests")
            if dbname:
                kwargs["dbname"] = dbname
            connection = psycopg2.connect(**kwargs)
        connection.autocommit = True
        return connection

    def create(self) -> None:
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE ROLE "{self.app_user}" LOGIN PASSWORD %s', (self.app_password,))
                cursor.execute(f'CREATE DATABASE "{self.database}" OWNER "{self.app_user}"')
        finally:
            connection.close()

    def drop(self) -> None:
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                cursor.execute(f'DROP ROLE IF EXISTS "{self.app_user}"')
        finally:
            connection.close()

    def run_sql(self, script: str) -> None:
        connection = self._connect(as_app=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(script)
        finally:
            connection.close()

    def reset(self) -> None:
        self.run_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        self.run_sql(SCHEMA)

    def fingerprint(self) -> dict[str, t.Any]:
        """Every table's rows (ordered), the relations, and where the sequences are."""
        connection = self._connect(as_app=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S', 'i') ORDER BY 1"
                )
                relations = cursor.fetchall()
                rows = {}
                for name, kind in relations:
                    if kind == "r":
                        cursor.execute(f'SELECT md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')), count(*) FROM public."{name}" t')
                        rows[name] = cursor.fetchone()
                    elif kind == "S":
                        cursor.execute(f'SELECT last_value FROM public."{name}"')
                        rows[name] = cursor.fetchone()
                cursor.execute("SELECT post_count()")
                rows["post_count()"] = cursor.fetchone()
        finally:
            connection.close()
        return {"relations": relations, "rows": rows}

    def url(self) -> str:
        host = self.admin.host or "127.0.0.1"
        port = self.admin.port or "5432"
        return f"postgresql://{quote(self.app_user, safe='')}:{quote(self.app_password, safe='')}@{host}:{port}/{self.database}"


def _docker(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", "-i", CONTAINER, *command], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)


def run_in_container(module: str, args: dict[str, t.Any], check_mode: bool = False) -> dict[str, t.Any]:
    """Run a module of the collection on the test PostgreSQL container; return its result."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPOSITORY / "collections"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_PIPELINING="True", ANSIBLE_NOCOLOR="1")
    command = ["ansible", "all", "-i", f"{CONTAINER},", "-c", "community.docker.docker",
               "-e", "ansible_python_interpreter=/usr/bin/python3", "-m", module, "-a", json.dumps(args)]
    if check_mode:
        command.append("--check")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"ansible printed no JSON: {done.stdout[-2000:]} {done.stderr[-2000:]}") from None
    return report["plays"][0]["tasks"][0]["hosts"][CONTAINER]


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[Sandbox]:
    admin_url = os.environ.get(PG_URL_VARIABLE)
    if not admin_url:
        pytest.fail(f"{PG_URL_VARIABLE} is not set: these tests need a PostgreSQL superuser URL (scripts/testbed/pg.sh start)",
                    pytrace=False)
    box = Sandbox(admin_url)
    box.create()
    # The URL is percent-encoded: the password's quotes and backslash never reach the file as such.
    prepared = _docker("sh", "-c", f"rm -rf {WORK} && mkdir -m 0700 {WORK} && cat > {WORK}/.env && chmod 0600 {WORK}/.env",
                       stdin=f'DATABASE_URL="{box.url()}"\n')
    assert prepared.returncode == 0, prepared.stderr
    yield box
    _docker("rm", "-rf", WORK)
    box.drop()


@pytest.fixture
def fresh(sandbox: Sandbox) -> Sandbox:
    sandbox.reset()
    _docker("sh", "-c", f"find {WORK} -mindepth 1 ! -name .env -exec rm -rf {{}} +")
    return sandbox


def _dump(dest: str, **args: t.Any) -> dict[str, t.Any]:
    return run_in_container("nekomorto.ops.pg_dump", {"env_file": f"{WORK}/.env", "dest": dest, **args})


def _restore(src: str, **args: t.Any) -> dict[str, t.Any]:
    return run_in_container("nekomorto.ops.pg_restore", {"env_file": f"{WORK}/.env", "src": src, **args})


def test_env_file_reads_back(sandbox: Sandbox) -> None:
    listed = _docker("cat", f"{WORK}/.env")
    assert listed.returncode == 0 and sandbox.database in listed.stdout


@pytest.mark.parametrize(("dump_format", "jobs", "dest"), [("custom", 1, "db.dump"), ("directory", 2, "db.dir")])
def test_round_trip_restores_exactly_the_backup(fresh: Sandbox, dump_format: str, jobs: int, dest: str) -> None:
    golden = fresh.fingerprint()
    dumped = _dump(f"{WORK}/{dest}", format=dump_format, jobs=jobs, verify="full")
    assert not dumped.get("failed"), dumped.get("msg")
    assert dumped["changed"] and dumped["jobs"] == jobs and dumped["size_bytes"] > 0
    assert {table["name"]: table["rows"] for table in dumped["tables"]} == {"_prisma_migrations": 1, "posts": 300, "users": 40}
    assert dumped["migrations"] == {"table_exists": True, "applied": ["20260101000000_init"]}
    assert fresh.app_password not in json.dumps(dumped)
    assert all(fresh.app_password not in part for part in dumped["command"])
    mode = _docker("stat", "-c", "%a", f"{WORK}/{dest}").stdout.strip()
    assert mode in ("600", "700")
    # Every file of the dump, as read back, by its path from the folder of dest (what the manifest compares).
    hashed = _docker("sh", "-c", f"cd {WORK} && find {dest} -type f -exec sha256sum {{}} +").stdout.split()
    assert dumped["checksums"] == dict(zip(hashed[1::2], hashed[0::2])) and len(dumped["checksums"]) == len(hashed) // 2 >= 1
    assert dumped["sha256"] == (dumped["checksums"]["db.dump"] if dump_format == "custom" else "")

    fresh.run_sql(NEWER)
    assert fresh.fingerprint() != golden
    restored = _restore(f"{WORK}/{dest}", expect_tables=dumped["tables"])
    assert not restored.get("failed"), restored.get("msg")
    assert restored["changed"] and restored["tables_checked"] == 3 and restored["schemas"] == ["public"]
    assert restored["database_unchanged"] is False
    assert fresh.fingerprint() == golden  # post_tags and featured are gone, rows and sequences are back


def test_sslpassword_never_reaches_the_command_line(fresh: Sandbox) -> None:
    # libpq reads sslpassword from the run's service file (no SSL here, so it is read and not used).
    url = f"{fresh.url()}?sslmode=disable&sslpassword=K3y-pa55-secret"
    prepared = _docker("sh", "-c", f"cat > {WORK}/ssl.env && chmod 0600 {WORK}/ssl.env", stdin=f'DATABASE_URL="{url}"\n')
    assert prepared.returncode == 0, prepared.stderr
    dumped = run_in_container("nekomorto.ops.pg_dump", {"env_file": f"{WORK}/ssl.env", "dest": f"{WORK}/db.dump"})
    assert not dumped.get("failed"), dumped.get("msg")
    assert any("service='nekomorto-ops'" in part for part in dumped["command"])
    assert not any("sslpassword" in part for part in dumped["command"])
    assert "K3y-pa55-secret" not in json.dumps(dumped)
    restored = _restore(f"{WORK}/db.dump", env_file=f"{WORK}/ssl.env", expect_tables=dumped["tables"])
    assert not restored.get("failed"), restored.get("msg")
    assert "K3y-pa55-secret" not in json.dumps(restored)


def test_restore_with_wrong_counts_rolls_everything_back(fresh: Sandbox) -> None:
    dumped = _dump(f"{WORK}/db.dump")
    fresh.run_sql(NEWER)
    before = fresh.fingerprint()
    wrong = [dict(table, rows=table["rows"] + 1) if table["name"] == "users" else table for table in dumped["tables"]]
    restored = _restore(f"{WORK}/db.dump", expect_tables=wrong)
    assert restored.get("failed") and not restored["changed"]
    assert "public.users has 40 rows, the backup counted 41" in restored["msg"]
    assert "rolled back: the database is unchanged" in restored["msg"]
    assert restored["database_unchanged"] is True
    assert fresh.fingerprint() == before


def _tools_with(folder: str, wrapped: str, script: str) -> str:
    """A bin_dir in the container where one of pg_dump, pg_restore and psql is a wrapper script, the others the real ones."""
    links = " && ".join(f"ln -sf /usr/bin/{other} {folder}/{other}" for other in ("pg_dump", "pg_restore", "psql") if other != wrapped)
    made = _docker("sh", "-c", f"mkdir -p {folder} && cat > {folder}/{wrapped} && chmod 0755 {folder}/{wrapped} && {links}", stdin=script)
    assert made.returncode == 0, made.stderr
    return folder


def test_restore_stream_cut_short_rolls_everything_back(fresh: Sandbox) -> None:
    """pg_restore dies half-way through its script: psql must not commit what it received."""
    _dump(f"{WORK}/db.dump")
    fresh.run_sql(NEWER)
    before = fresh.fingerprint()
    wrapper = (
        "#!/bin/sh\n"
        'case " $* " in *" --file=- "*) /usr/bin/pg_restore "$@" | head -c 3000; echo "cut short" >&2; exit 1;; esac\n'
        'exec /usr/bin/pg_restore "$@"\n'
    )
    restored = _restore(f"{WORK}/db.dump", bin_dir=_tools_with(f"{WORK}/bin", "pg_restore", wrapper))
    assert restored.get("failed")
    assert "pg_restore failed (exit 1)" in restored["msg"] and "the database is unchanged" in restored["msg"]
    assert fresh.fingerprint() == before


def test_a_psql_killed_while_restoring_leaves_the_outcome_unknown(fresh: Sandbox) -> None:
    """A psql stopped by a signal may have sent its COMMIT: the module must not claim the database is unchanged."""
    _dump(f"{WORK}/db.dump")
    # Killed once it has run the whole restore (committed): exactly the case where "unchanged" would be false.
    wrapper = (
        "#!/bin/bash\n"
        'case " $* " in *" --single-transaction "*) /usr/bin/psql "$@"; kill -KILL $$;; esac\n'
        'exec /usr/bin/psql "$@"\n'
    )
    restored = _restore(f"{WORK}/db.dump", bin_dir=_tools_with(f"{WORK}/killed", "psql", wrapper))
    assert restored.get("failed")
    assert "psql was stopped while restoring (exit 137)" in restored["msg"], restored["msg"]
    assert "the outcome is unknown" in restored["msg"]
    assert restored["database_unchanged"] is False


def test_restore_gives_up_on_a_held_lock(fresh: Sandbox) -> None:
    _dump(f"{WORK}/db.dump")
    before = fresh.fingerprint()
    holder = psycopg2.connect(fresh.url(), connect_timeout=10)
    try:
        with holder.cursor() as cursor:
            cursor.execute("LOCK TABLE posts IN ACCESS SHARE MODE")
            restored = _restore(f"{WORK}/db.dump", lock_timeout=2)
    finally:
        holder.rollback()
        holder.close()
    assert restored.get("failed") and "lock timeout" in restored["msg"]
    assert restored["database_unchanged"] is True
    assert fresh.fingerprint() == before


def test_a_dump_with_large_objects_is_not_restored(fresh: Sandbox) -> None:
    """pg_restore would commit the large objects' data on its own, in the middle of the one transaction."""
    fresh.run_sql("SELECT lo_from_bytea(0, 'a large object')")
    try:
        dumped = _dump(f"{WORK}/db.dump")
        assert not dumped.get("failed"), dumped.get("msg")
        assert any("cannot be restored by nekomorto.ops.pg_restore" in warning for warning in dumped.get("warnings", []))
        fresh.run_sql(NEWER)
        before = fresh.fingerprint()
        restored = _restore(f"{WORK}/db.dump", expect_tables=dumped["tables"])
    finally:
        # Large objects belong to the database, not to a schema the next test's reset empties.
        fresh.run_sql("SELECT lo_unlink(oid) FROM pg_largeobject_metadata")
    assert restored.get("failed") and "the archive holds large objects" in restored["msg"]
    assert restored["database_unchanged"] is True
    assert fresh.fingerprint() == before


def test_truncated_dump_is_refused_by_the_read_back(fresh: Sandbox) -> None:
    _dump(f"{WORK}/db.dump")
    cut = _docker("sh", "-c", f"head -c $(( $(stat -c %s {WORK}/db.dump) * 3 / 4 )) {WORK}/db.dump > {WORK}/cut.dump")
    assert cut.returncode == 0
    verified = run_in_container("nekomorto.ops.pg_restore", {"src": f"{WORK}/cut.dump", "verify_only": True})
    assert verified.get("failed") and "nothing was restored" in verified["msg"]
    assert "pg_restore cannot read" in verified["msg"]
    good = run_in_container("nekomorto.ops.pg_restore", {"src": f"{WORK}/db.dump", "verify_only": True})
    assert not good.get("failed") and not good["changed"] and good["dumped_by"].startswith("17.")


def test_dump_is_named_only_once_verified(fresh: Sandbox) -> None:
    """pg_restore reads the dump back under its temporary name; dest appears only after that."""
    wrapper = (
        "#!/bin/sh\n"
        f'case " $* " in *" --list "*) ls -A {WORK}/dumps > {WORK}/seen-by-verify;; esac\n'
        'exec /usr/bin/pg_restore "$@"\n'
    )
    assert _docker("mkdir", "-p", f"{WORK}/dumps").returncode == 0
    dumped = _dump(f"{WORK}/dumps/db.dump", bin_dir=_tools_with(f"{WORK}/bin", "pg_restore", wrapper))
    assert not dumped.get("failed"), dumped.get("msg")
    assert _docker("cat", f"{WORK}/seen-by-verify").stdout.split() == [".db.dump.partial"]
    assert _docker("ls", "-A", f"{WORK}/dumps").stdout.split() == ["db.dump"]


def test_a_dump_that_cannot_be_named_fails_with_a_sentence(fresh: Sandbox) -> None:
    """An OSError at the last step (here dest made a folder while the dump was read back) is a failure
    that says what happened, the temporary dump removed and what stands at dest left alone."""
    wrapper = (
        "#!/bin/sh\n"
        f'case " $* " in *" --list "*) mkdir -p {WORK}/db.dump/not-ours;; esac\n'
        'exec /usr/bin/pg_restore "$@"\n'
    )
    dumped = _dump(f"{WORK}/db.dump", bin_dir=_tools_with(f"{WORK}/taken", "pg_restore", wrapper))
    assert dumped.get("failed")
    assert dumped["msg"].startswith(f"The dump cannot be written to {WORK}/db.dump: [Errno 21] Is a directory"), dumped["msg"]
    assert dumped["msg"].endswith("Nothing was kept.")
    assert "Traceback" not in json.dumps(dumped)
    assert sorted(_docker("ls", "-A", WORK).stdout.split()) == [".env", "db.dump", "taken"]
    assert _docker("ls", "-A", f"{WORK}/db.dump").stdout.split() == ["not-ours"]


def test_free_space_counts_what_is_still_to_be_written_beside_the_dump(fresh: Sandbox) -> None:
    free = int(_docker("df", "-B1", "--output=avail", WORK).stdout.split()[-1])
    beside = free + 2**30
    refused = _dump(f"{WORK}/db.dump", reserve_bytes=beside)
    assert refused.get("failed")
    assert f"MiB free, the database takes {refused['database']['size_bytes'] // 1048576} MiB and {beside // 1048576} MiB more" in refused["msg"]
    assert refused["msg"].endswith("Nothing was dumped.")
    assert sorted(_docker("ls", "-A", WORK).stdout.split()) == [".env"]
    # What the archive holds already (a sparse file: it takes no room) is no longer asked for.
    assert _docker("truncate", "-s", str(beside), f"{WORK}/.uploads.tar.partial").returncode == 0
    dumped = _dump(f"{WORK}/db.dump", reserve_bytes=beside, reserve_paths=[f"{WORK}/.uploads.tar.partial", f"{WORK}/uploads.tar"])
    assert not dumped.get("failed"), dumped.get("msg")


def test_failed_dump_leaves_nothing(fresh: Sandbox) -> None:
    _docker("sh", "-c", f"sed 's/@/-wrong@/' {WORK}/.env > {WORK}/wrong.env")
    dumped = run_in_container("nekomorto.ops.pg_dump", {"env_file": f"{WORK}/wrong.env", "dest": f"{WORK}/db.dump"})
    assert dumped.get("failed") and "password authentication failed" in dumped["msg"]
    assert fresh.app_password not in json.dumps(dumped)
    listed = _docker("ls", "-A", WORK).stdout.split()
    assert sorted(listed) == [".env", "wrong.env"]


def test_dump_in_check_mode_writes_nothing(fresh: Sandbox) -> None:
    planned = run_in_container("nekomorto.ops.pg_dump", {"env_file": f"{WORK}/.env", "dest": f"{WORK}/db.dump"}, check_mode=True)
    assert planned["changed"] and planned["tables"] and planned["command"] == []
    assert sorted(_docker("ls", "-A", WORK).stdout.split()) == [".env"]


def test_uploads_archive_round_trip_on_the_host(fresh: Sandbox) -> None:
    made = _docker("sh", "-c", f"mkdir -p {WORK}/up/a/b && printf 1 > {WORK}/up/a/b/one.png && printf 22 > '{WORK}/up/two files.png'")
    assert made.returncode == 0
    args = {"path": f"{WORK}/up.tar", "checksum_file": f"{WORK}/up.sha256"}
    archived = run_in_container("nekomorto.ops.uploads_archive", {**args, "state": "archived", "src": f"{WORK}/up"})
    assert archived["changed"] and archived["files"] == 2
    extracted = run_in_container(
        "nekomorto.ops.uploads_archive",
        {**args, "state": "extracted", "dest": f"{WORK}/back", "owner": "postgres", "group": "postgres"},
    )
    assert extracted["changed"]
    compared = _docker("sh", "-c", f"diff -r {WORK}/up {WORK}/back && stat -c %U {WORK}/back/a/b/one.png")
    assert compared.returncode == 0 and compared.stdout.strip() == "postgres"


def test_pg_dump_older_than_the_server_says_what_to_install(sandbox: Sandbox, tmp_path: Path) -> None:
    for name in ("pg_dump", "pg_restore"):
        program = tmp_path / name
        program.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) 15.4'\n")
        program.chmod(0o755)
    outcome = run_module(pg_dump.main, {"database_url": sandbox.url(), "dest": str(tmp_path / "db.dump"), "bin_dir": str(tmp_path)})
    assert outcome.failed
    assert outcome.result["msg"].startswith(f"pg_dump 15.4 ({tmp_path}/pg_dump) is older than the database server")
    assert "postgresql-client-17" in outcome.result["msg"]
    assert sandbox.app_password not in json.dumps(outcome.result)
    assert not (tmp_path / "db.dump").exists()
