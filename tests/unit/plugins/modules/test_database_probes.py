# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""prisma_migrations_info and app_database_info without a database server.

What needs a real PostgreSQL lives in tests/integration/plugins/modules/.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import app_database_info, prisma_migrations_info
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.probe_harness import run_module

PASSWORD = "Pa55:w/rd#!"
MIGRATIONS_KEYS = {
    "changed", "database_reachable", "schema", "table_exists", "local", "applied", "pending", "failed_migrations",
    "rolled_back", "modified", "missing_locally", "summary", "resolve_hints", "queries",
}
DATABASE_KEYS = {
    "changed", "server_version", "database", "user", "schema", "database_size_bytes", "session_table",
    "session_table_exists", "row_counts", "queries",
}


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def migrations_dir(tmp_path: Path) -> str:
    for name in ("20260101000000_init", "20260201000000_user_sessions"):
        (tmp_path / "migrations" / name).mkdir(parents=True)
        (tmp_path / "migrations" / name / "migration.sql").write_text(f"-- {name}\n")
    return str(tmp_path / "migrations")


def _env_file(tmp_path: Path, port: int) -> str:
    env_file = tmp_path / ".env"
    encoded = "Pa55%3Aw%2Frd%23%21"
    env_file.write_text(f'NODE_ENV=production\nDATABASE_URL="postgresql://nekomorto_app:{encoded}@127.0.0.1:{port}/nekomorto"\n')
    return str(env_file)


def test_unreachable_database_fails_without_the_password(tmp_path: Path, closed_port: int, migrations_dir: str) -> None:
    outcome = run_module(prisma_migrations_info.main, {"env_file": _env_file(tmp_path, closed_port), "migrations_dir": migrations_dir})
    assert outcome.failed
    assert outcome.result["msg"] == (
        f"cannot connect to PostgreSQL at 127.0.0.1:{closed_port} as nekomorto_app: "
        "connection refused (is PostgreSQL running and listening on that address and port?)"
    )
    assert set(outcome.result) >= MIGRATIONS_KEYS
    assert outcome.result["database_reachable"] is False
    assert PASSWORD not in repr(outcome.result) and "Pa55%3A" not in repr(outcome.result)


def test_unreachable_database_can_be_reported_instead(tmp_path: Path, closed_port: int, migrations_dir: str) -> None:
    outcome = run_module(
        prisma_migrations_info.main,
        {"env_file": _env_file(tmp_path, closed_port), "migrations_dir": migrations_dir, "fail_on_unreachable": False},
    )
    assert not outcome.failed
    result = outcome.result
    assert set(result) >= MIGRATIONS_KEYS
    assert result["database_reachable"] is False
    assert result["changed"] is False
    assert result["local"] == ["20260101000000_init", "20260201000000_user_sessions"]
    assert result["pending"] == [] and result["applied"] == []
    assert result["summary"].startswith(f"Database unreachable: cannot connect to PostgreSQL at 127.0.0.1:{closed_port}")


def test_database_url_argument_is_never_echoed(closed_port: int, migrations_dir: str) -> None:
    url = f"postgresql://nekomorto_app:{PASSWORD.replace(':', '%3A').replace('/', '%2F').replace('#', '%23')}@127.0.0.1:{closed_port}/db"
    outcome = run_module(prisma_migrations_info.main, {"database_url": url, "migrations_dir": migrations_dir})
    assert outcome.failed
    assert url not in repr(outcome.result)
    assert outcome.result["invocation"]["module_args"]["database_url"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("NODE_ENV=production\n", "DATABASE_URL is not set in {env_file}"),
        ('DATABASE_URL="mysql://app:pw@localhost/app"\n',
         "DATABASE_URL must start with postgresql:// or postgres://, got the scheme 'mysql'"),
    ],
)
def test_unusable_env_file_fails_clearly(tmp_path: Path, migrations_dir: str, content: str, message: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(content)
    for main, args in (
        (prisma_migrations_info.main, {"env_file": str(env_file), "migrations_dir": migrations_dir}),
        (app_database_info.main, {"env_file": str(env_file)}),
    ):
        outcome = run_module(main, args)
        assert outcome.failed
        assert outcome.result["msg"] == message.format(env_file=env_file)


def test_missing_migrations_dir_fails_before_connecting(tmp_path: Path, closed_port: int) -> None:
    outcome = run_module(
        prisma_migrations_info.main,
        {"env_file": _env_file(tmp_path, closed_port), "migrations_dir": str(tmp_path / "releases/x/prisma/migrations")},
    )
    assert outcome.failed
    assert outcome.result["msg"] == (
        f"migrations_dir {tmp_path}/releases/x/prisma/migrations is not a directory (expected a release's prisma/migrations)"
    )
    assert outcome.result["queries"] == []


@pytest.mark.parametrize("module", [prisma_migrations_info, app_database_info])
def test_exactly_one_connection_source(tmp_path: Path, module, migrations_dir: str) -> None:
    extra = {"migrations_dir": migrations_dir} if module is prisma_migrations_info else {}
    both = run_module(module.main, {"database_url": "postgresql://a@b/c", "env_file": str(tmp_path / ".env"), **extra})
    assert both.failed
    assert both.result["msg"] == "parameters are mutually exclusive: database_url|env_file"
    neither = run_module(module.main, extra)
    assert neither.failed
    assert neither.result["msg"] == "one of the following is required: database_url, env_file"


def test_app_database_info_unreachable(tmp_path: Path, closed_port: int) -> None:
    outcome = run_module(app_database_info.main, {"env_file": _env_file(tmp_path, closed_port), "connect_timeout": 2})
    assert outcome.failed
    assert outcome.result["msg"].startswith(f"cannot connect to PostgreSQL at 127.0.0.1:{closed_port} as nekomorto_app: connection refused")
    assert set(outcome.result) >= DATABASE_KEYS
    assert outcome.result["session_table"] == "user_sessions"
    assert outcome.result["session_table_exists"] is False
    assert PASSWORD not in repr(outcome.result)


def test_check_mode_is_accepted(tmp_path: Path, closed_port: int, migrations_dir: str) -> None:
    outcome = run_module(
        prisma_migrations_info.main,
        {"env_file": _env_file(tmp_path, closed_port), "migrations_dir": migrations_dir, "fail_on_unreachable": False},
        check_mode=True,
    )
    assert not outcome.failed
    assert outcome.result["changed"] is False
