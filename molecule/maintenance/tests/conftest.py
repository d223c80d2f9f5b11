"""Fixtures of the maintenance scenario: one PostgreSQL host, two app hosts (seeded by the converge)."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "resources" / "tests"))

import testbed  # noqa: E402

DB_PORT = 55442
APP_ROOT = "/srv/nekomorto"
MARKER = f"{APP_ROOT}/state/maintenance.json"
JOURNAL = f"{APP_ROOT}/state/journal.jsonl"
OPS_DIR = f"{APP_ROOT}/state/ops"
UPLOADS = f"{APP_ROOT}/shared/public/uploads"
HOSTS = {"nekomorto-mt-app1": "http://127.0.0.1:38180", "nekomorto-mt-app2": "http://127.0.0.1:38181"}
APP1_URL = HOSTS["nekomorto-mt-app1"]
# Until the collection has its backup role, an apply needs backup_taken=true.
BACKUP_ROLE = (testbed.ROOT / "roles" / "backup" / "tasks" / "main.yml").is_file()
DATA_TABLES = ("users", "projects", "posts", "uploads")


@pytest.fixture(scope="session")
def app1():
    return testbed.host("nekomorto-mt-app1")


@pytest.fixture(scope="session")
def app2():
    return testbed.host("nekomorto-mt-app2")


@pytest.fixture(scope="session")
def apps(app1, app2):
    return {"nekomorto-mt-app1": app1, "nekomorto-mt-app2": app2}


@pytest.fixture(scope="session")
def db():
    return testbed.host("nekomorto-mt-db")


def maintenance(*args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/maintenance.yml", *args, extra_vars=extra_vars or None)


def rbac(*args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/rbac.yml", *args, extra_vars=extra_vars or None)


def sql(db, query: str) -> list[list[str]]:
    return testbed.psql(db, query, port=DB_PORT)


def table_checksums(db) -> dict[str, str]:
    """md5 of every data table's rows in id order: equal before and after means no row changed."""
    return {
        table: sql(db, f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM {table} t")[0][0]
        for table in DATA_TABLES
    }


def uploads_tree(host) -> list[str]:
    """`sha256  path` of every file under public/uploads, sorted."""
    return sorted(host.run(f"cd {UPLOADS} && find . -type f -exec sha256sum {{}} +").stdout.splitlines())


def uploads_files(host) -> set[str]:
    return {line.split(None, 1)[1].removeprefix("./") for line in uploads_tree(host)}


def journal(host) -> list[dict]:
    return [json.loads(line) for line in host.file(JOURNAL).content_string.splitlines() if line.strip()]


def marker(host) -> dict | None:
    file = host.file(MARKER)
    return json.loads(file.content_string) if file.exists else None


def maintenance_mode(url: str) -> bool:
    return testbed.http(f"{url}/api/health").json()["maintenanceMode"]


def as_app_user(host, command: str):
    """A command in the live release as the app user, with the environment the roles use."""
    return host.run(
        "cd %s/current && runuser -u nekomorto -- env HOME=%s PATH=%s/node/bin:/usr/bin:/bin sh -c %s",
        APP_ROOT, APP_ROOT, APP_ROOT, command,
    )


def project_id(db, slug: str) -> str:
    return sql(db, f"SELECT id FROM projects WHERE slug = '{slug}'")[0][0]


def said(run: testbed.PlaybookRun, text: str) -> bool:
    """Whether the run's output has `text`, whatever the line folding of the YAML callback."""
    return " ".join(text.split()) in " ".join(run.output.replace("''", "'").split())
