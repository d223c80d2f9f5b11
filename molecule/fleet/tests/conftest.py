"""Fixtures of the fleet scenario: PostgreSQL, an nginx edge, app1 and app3 (restart strategy), app2 (blue/green)."""

from __future__ import annotations

import contextlib
import json
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "resources" / "tests"))

import testbed  # noqa: E402
from load import LoadClient  # noqa: E402

DB_PORT = 55462
EDGE_URL = "http://127.0.0.1:38380"
APP1, APP2, APP3, EDGE = "nekomorto-fl-app1", "nekomorto-fl-app2", "nekomorto-fl-app3", "nekomorto-fl-edge"
APP1_PORT = 38381
APP2_PORTS = {"blue": 38383, "green": 38384}
APP3_PORT = 38385
APP_ROOT = "/srv/nekomorto"
MEMBERS_DIR = "/etc/nginx/nekomorto-upstream.d"
ACCESS_LOG = "/var/log/nginx/nekomorto.access.log"
SCENARIO_DIR = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app1():
    return testbed.host(APP1)


@pytest.fixture(scope="session")
def app2():
    return testbed.host(APP2)


@pytest.fixture(scope="session")
def app3():
    return testbed.host(APP3)


@pytest.fixture(scope="session")
def edge():
    return testbed.host(EDGE)


@pytest.fixture(scope="session")
def db():
    return testbed.host("nekomorto-fl-db")


def deploy(version: str, *args: str, **extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/deploy.yml", *args, extra_vars={"app_version": version, **extra_vars})


def toggle_maintenance(on: bool) -> testbed.PlaybookRun:
    """MAINTENANCE_MODE switched on every app host through the service role's apply entry point."""
    return testbed.run_playbook(str((SCENARIO_DIR / "maintenance_toggle.yml").relative_to(testbed.ROOT)),
                                extra_vars={"maintenance_mode": on})


@contextlib.contextmanager
def under_load():
    """Bounded loopback load through the edge for the duration of the block; yields the client."""
    client = LoadClient(EDGE_URL, workers=2, pause=0.04, max_requests=40000, max_seconds=900)
    client.start()
    try:
        yield client
    finally:
        report = client.stop()
        print(f"load through the edge: {report.summary()}")


def answers(url: str) -> bool:
    """Whether the app answers 200 there (False while it is still starting: nothing listens yet)."""
    try:
        return testbed.http(url).status == 200
    except OSError:
        return False


def version_at(port: int) -> str:
    return testbed.http(f"http://127.0.0.1:{port}/api/version").json()["version"]


def unit_state(host, unit: str) -> dict[str, str]:
    output = host.run(f"systemctl show -p ActiveState -p MainPID -p NRestarts {unit}").stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def member(edge, name: str) -> str:
    return edge.file(f"{MEMBERS_DIR}/{name}.conf").content_string


def journal(host) -> list[dict]:
    return [json.loads(line) for line in host.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()]


def migration_rows(db) -> list[list[str]]:
    return testbed.psql(db, "SELECT migration_name, count(*) FROM _prisma_migrations "
                            "WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL "
                            "GROUP BY migration_name ORDER BY migration_name", port=DB_PORT)


def upstreams_logged(edge, last: int) -> set[str]:
    """The upstream addresses of the last requests of the edge's access log."""
    lines = edge.run(f"tail -n {last} {ACCESS_LOG}").stdout.splitlines()
    return {part.split("=", 1)[1] for line in lines for part in line.split() if part.startswith("upstream=")}


def flat(text: str) -> str:
    """Output with every run of whitespace made one space (the YAML callback folds long messages)."""
    return " ".join(text.split())
