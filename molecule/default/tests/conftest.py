"""Fixtures of the default scenario: one PostgreSQL host, one app host."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "resources" / "tests"))

import testbed  # noqa: E402

DB_PORT = 55432
APP_PORT = 38080
APP_URL = f"http://127.0.0.1:{APP_PORT}"
APP_ROOT = "/srv/nekomorto"
DB_PASSWORD = "testbed-db-pw-7f3e9a41c2"
SESSION_SECRET = "testbed-session-secret-3c5d8e1f9a7b2c4d6e8f0a1b"


def app_env(**changes) -> dict:
    """The scenario's app_env with some variables changed (None removes one)."""
    env = {
        "NODE_ENV": "production",
        "DATABASE_URL": f"postgresql://nekomorto_app:{DB_PASSWORD}@127.0.0.1:{DB_PORT}/nekomorto",
        "SESSION_SECRET": SESSION_SECRET,
        "APP_ORIGIN": APP_URL,
        "GOOGLE_CLIENT_ID": "",
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.fixture(scope="session")
def app():
    return testbed.host("nekomorto-app1")


@pytest.fixture(scope="session")
def db():
    return testbed.host("nekomorto-db")


def deploy(version: str, *args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/deploy.yml", *args, extra_vars={"app_version": version, **extra_vars})


def served_version() -> str:
    return testbed.http(f"{APP_URL}/api/version").json()["version"]


def migration_rows(db, name: str) -> list[list[str]]:
    return testbed.psql(
        db,
        "SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL "
        f"FROM _prisma_migrations WHERE migration_name = '{name}' ORDER BY started_at",
        port=DB_PORT,
    )


def as_app_user(app, command: str, cwd: str = f"{APP_ROOT}/current"):
    """A command in a release folder as the app user, with the environment the roles use."""
    return app.run(
        "cd %s && runuser -u nekomorto -- env HOME=%s PATH=%s/node/bin:/usr/bin:/bin "
        "PRISMA_SCHEMA_ENGINE_BINARY=/opt/prisma-schema-engine/schema-engine "
        "npm_config_cache=/var/cache/nekomorto-npm npm_config_offline=true sh -c %s",
        cwd, APP_ROOT, APP_ROOT, command,
    )


def commit_version(app, repo: str, base: str, tag: str, change: str, clone: bool = False) -> str:
    """A commit on top of BASE in the test repository REPO (a fresh clone of the host's mirror when CLONE),
    made as the app user (git refuses a repository another user owns) by the shell command CHANGE run in
    it, tagged TAG; returns its hash."""
    fresh = f"rm -rf {repo} && git clone -q {APP_ROOT}/repo.git {repo} && " if clone else ""
    made = app.run(
        "cd /tmp && runuser -u nekomorto -- sh -ec %s",
        f"{fresh}cd {repo} && git checkout -q {base} && {change} && git add -A && "
        f"git -c user.name=t -c user.email=t@example.invalid commit -q -m {tag} && git tag -f {tag} && git rev-parse HEAD",
    )
    assert made.rc == 0, made.stderr
    return made.stdout.strip()
