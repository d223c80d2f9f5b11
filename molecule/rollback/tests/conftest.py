"""Fixtures of the rollback scenario: one PostgreSQL host, one app host, their own ports.

The tests run in file order and hand facts to each other (the golden backup's id, what the data
looked like when it was taken) through a JSON file in molecule's ephemeral folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "resources" / "tests"))

import testbed  # noqa: E402

DB_PORT = 55452
APP_PORT = 38280
APP_URL = f"http://127.0.0.1:{APP_PORT}"
APP_ROOT = "/srv/nekomorto"
UPLOADS = f"{APP_ROOT}/shared/public/uploads"
BACKUP_ROOT = "/var/backups/nekomorto"
DB_PASSWORD = "testbed-db-pw-7f3e9a41c2"
SESSION_SECRET = "testbed-session-secret-3c5d8e1f9a7b2c4d6e8f0a1b"
SECRETS = (DB_PASSWORD, SESSION_SECRET)
# The scenario's app_env (molecule.yml), for a test that passes it with one variable more.
APP_ENV = {
    "NODE_ENV": "production",
    "DATABASE_URL": f"postgresql://nekomorto_app:{DB_PASSWORD}@127.0.0.1:{DB_PORT}/nekomorto",
    "SESSION_SECRET": SESSION_SECRET,
    "APP_ORIGIN": APP_URL,
    "GOOGLE_CLIENT_ID": "",
}
JSON_REASON = "Rollback para JSON nao e suportado"


@pytest.fixture(scope="session")
def app():
    return testbed.host("nekomorto-rb-app1")


@pytest.fixture(scope="session")
def db():
    return testbed.host("nekomorto-rb-db")


# ---------------------------------------------------------------------------------------------
# Facts handed from one test file to the next.

def _state_file() -> pathlib.Path:
    folder = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY") or "/tmp"
    return pathlib.Path(folder) / "rollback-scenario-state.json"


def remember(**facts) -> None:
    state = recall()
    state.update(facts)
    _state_file().write_text(json.dumps(state))


def recall() -> dict:
    path = _state_file()
    return json.loads(path.read_text()) if path.exists() else {}


# ---------------------------------------------------------------------------------------------
# Playbooks.

def backup(*args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/backup.yml", *args, extra_vars=extra_vars or None)


def rollback(*args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/rollback.yml", *args, extra_vars=extra_vars or None)


def deploy(version: str, *args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/deploy.yml", *args, extra_vars={"app_version": version, **extra_vars})


def assert_no_secret(run: testbed.PlaybookRun) -> None:
    for secret in SECRETS:
        assert secret not in run.output, "a secret appears in the playbook's output"


# ---------------------------------------------------------------------------------------------
# Observations.

def psql(db, sql: str) -> list[list[str]]:
    return testbed.psql(db, sql, port=DB_PORT)


def tables(db) -> list[str]:
    return [row[0] for row in psql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


def table_checksums(db) -> dict[str, str]:
    """Per table: its row count and the md5 of its rows as text, in order (content and column set), in one psql run."""
    generator = (
        "SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) "
        "FROM public.%I t', tablename, tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    script = f"{generator} \\gexec\n"
    result = db.run(
        "su postgres -c %s",
        f"printf '%s' {shlex.quote(script)} | psql -X -q -t -A -F '|' -v ON_ERROR_STOP=1 -p {DB_PORT} -d nekomorto",
    )
    assert result.rc == 0, result.stderr
    rows = [line.split("|") for line in result.stdout.splitlines() if line]
    return {name: f"{count}:{digest}" for name, count, digest in rows}


def applied_migrations(db) -> list[str]:
    return [row[0] for row in psql(
        db,
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL "
        "ORDER BY started_at, id",
    )]


def uploads_listing(app) -> list[str]:
    """Path and sha256 of every file under the uploads folder, sorted."""
    result = app.run(f"cd {UPLOADS} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum")
    assert result.rc == 0, result.stderr
    return result.stdout.splitlines()


def backup_ids(app, root: str = BACKUP_ROOT) -> list[str]:
    result = app.run(f"ls -1 {root} 2>/dev/null")
    return sorted(line for line in result.stdout.splitlines() if line)


def async_job_files(app) -> list[str]:
    """Result files of Ansible's background jobs on the host (the backup archives the uploads in one)."""
    return sorted(app.run("ls -1A /root/.ansible_async 2>/dev/null").stdout.split())


def manifest(app, backup_id: str, root: str = BACKUP_ROOT) -> dict:
    return json.loads(app.file(f"{root}/{backup_id}/manifest.json").content_string)


def backup_tree(app, root: str = BACKUP_ROOT) -> str:
    """Every file of every backup with its sha256: what must stay untouched."""
    return app.run(f"cd {root} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum").stdout


def journal(app) -> list[dict]:
    return [json.loads(line) for line in app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines() if line]


def served_version() -> str:
    return testbed.http(f"{APP_URL}/api/version").json()["version"]


def health() -> dict:
    return testbed.http(f"{APP_URL}/api/health").json()


def service_state(app) -> str:
    return app.run("systemctl show -p ActiveState -p MainPID -p NRestarts nekomorto").stdout


def as_app_user(app, command: str, cwd: str = f"{APP_ROOT}/current"):
    """A command in the live release as the app user, with the environment the roles use."""
    return app.run(
        "cd %s && runuser -u nekomorto -- env HOME=%s PATH=%s/node/bin:/usr/bin:/bin "
        "npm_config_cache=/var/cache/nekomorto-npm npm_config_offline=true sh -c %s",
        cwd, APP_ROOT, APP_ROOT, command,
    )


def whole_state(app, db) -> dict:
    """Everything a refused rollback must leave as it was: tables (with _prisma_migrations), uploads, releases,
    links, env file, state files, the service's process, every backup file. One command per host."""
    host = app.run(
        f"cd {UPLOADS} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum; echo ---;"
        f" cd {APP_ROOT} && readlink current previous; ls -1 releases; sha256sum shared/.env; ls -1 state | grep -v journal;"
        " systemctl show -p ActiveState -p MainPID -p NRestarts nekomorto; echo ---;"
        f" cd {BACKUP_ROOT} && find . -type f -print0 | sort -z | xargs -0 -r sha256sum"
    )
    assert host.rc == 0, host.stderr
    return {"tables": table_checksums(db), "host": host.stdout}
