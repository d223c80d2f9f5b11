# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rendered env file, read back by the app's real readers: node --env-file and dotenv 16 and 17.

systemd's EnvironmentFile= is the third reader; it needs a systemd host, so its round trip lives in
tests/integration/envfile/. These tests never skip: without node and npm they fail.
npm installs the pinned dotenv packages from its cache when it can (--prefer-offline), so once the
cache holds them the test runs offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._envfile import render_env
from ansible_collections.nekomorto.ops.tests.unit.plugins.module_utils.envfile_cases import TRICKY_VALUES

READERS = Path(__file__).parent / "envfile_readers"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required for the env-file round trip (install Node.js 20 and npm)")
    return path


@pytest.fixture(scope="session")
def readers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of envfile_readers/ with its node_modules installed from the lockfile."""
    work = tmp_path_factory.mktemp("envfile-readers")
    for name in ("package.json", "package-lock.json", "read-dotenv.cjs"):
        shutil.copy(READERS / name, work / name)
    subprocess.run(
        [_tool("npm"), "ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=work, check=True, timeout=300, capture_output=True,
    )
    return work


@pytest.fixture(scope="session")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("envfile") / ".env"
    path.write_text(render_env(TRICKY_VALUES), encoding="utf-8")
    return path


def _node_env_file(env_file: Path) -> dict[str, str]:
    # An empty environment: node --env-file never overrides a variable that is already set.
    completed = subprocess.run(
        [_tool("node"), f"--env-file={env_file}", "-e", "process.stdout.write(JSON.stringify(process.env))"],
        env={}, check=True, timeout=60, capture_output=True, text=True,
    )
    return json.loads(completed.stdout)


def _dotenv(readers_dir: Path, env_file: Path) -> dict[str, dict[str, str]]:
    completed = subprocess.run(
        [_tool("node"), str(readers_dir / "read-dotenv.cjs"), str(env_file)],
        check=True, timeout=60, capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "")},
    )
    return json.loads(completed.stdout)


def _differences(read: dict[str, str]) -> dict[str, tuple[str | None, str]]:
    return {name: (read.get(name), value) for name, value in TRICKY_VALUES.items() if read.get(name) != value}


def test_node_version_is_at_least_20() -> None:
    version = subprocess.run([_tool("node"), "--version"], check=True, capture_output=True, text=True).stdout
    assert int(version.strip().lstrip("v").split(".")[0]) >= 20


def test_node_env_file_reads_every_value_back(env_file: Path) -> None:
    read = _node_env_file(env_file)
    assert _differences(read) == {}
    assert set(TRICKY_VALUES) <= set(read)


@pytest.mark.parametrize("package", ["dotenv16", "dotenv17"])
def test_dotenv_reads_every_value_back(readers_dir: Path, env_file: Path, package: str) -> None:
    read = _dotenv(readers_dir, env_file)[package]
    assert _differences(read) == {}
    assert set(read) == set(TRICKY_VALUES)


def test_the_rendering_is_not_trivially_safe(readers_dir: Path, tmp_path: Path) -> None:
    """The readers really disagree on naive spellings; the test would catch a careless renderer."""
    naive = tmp_path / ".env"
    naive.write_text("HASH=a#b\nSPACES=  x  \nBACKSLASH_N=\"a\\nb\"\n", encoding="utf-8")
    assert _node_env_file(naive)["HASH"] == "a"
    assert _dotenv(readers_dir, naive)["dotenv17"]["BACKSLASH_N"] == "a\nb"
