# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The env file app_env writes, read back by the real systemd (EnvironmentFile=) on a systemd test host.

The unit tests read the same file with node --env-file and dotenv; this is the third reader. The
test host is the collection's Debian 13 image with systemd as PID 1, started here and removed after.
It needs a Docker engine and the test-host image (scripts/testbed/setup.sh): without them it fails,
it never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import typing as t
import uuid
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import app_env
from ansible_collections.nekomorto.ops.tests.unit.plugins.module_utils.envfile_cases import TRICKY_VALUES
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module

IMAGES = ("nekomorto-testhost:trixie", "nekomorto-testhost:dev")
# /tmp is a fresh tmpfs under systemd: a file put there from outside would be hidden.
ENV_FILE_IN_HOST = "/srv/app-env-roundtrip.env"
REQUIRED = {
    "NODE_ENV": "production",
    "DATABASE_URL": "postgresql://nekomorto_app:p%40ss'w0rd@127.0.0.1:5432/nekomorto",
    "SESSION_SECRET": "s3cr3t with spaces, 'quotes' and $signs #1 0123456789",
    "APP_ORIGIN": "https://nekomata.moe,https://www.nekomata.moe",
    "MAINTENANCE_MODE": "false",
}
EXPECTED = {**TRICKY_VALUES, **REQUIRED}
PRINT_ENVIRONMENT = "import json, os; print(json.dumps(dict(os.environ)))"


def _docker(*args: str, stdin: bytes | None = None, timeout: int = 120) -> str:
    completed = subprocess.run(["docker", *args], input=stdin, capture_output=True, timeout=timeout, check=False)
    if completed.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed: {completed.stderr.decode(errors='replace')}")
    return completed.stdout.decode("utf-8")


def _image() -> str:
    wanted = os.environ.get("NEKOMORTO_TESTHOST_IMAGE")
    for image in ([wanted] if wanted else IMAGES):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode == 0:
            return image
    pytest.fail(f"none of the test-host images {wanted or IMAGES} exists; run scripts/testbed/setup.sh")


@pytest.fixture(scope="module")
def systemd_host() -> t.Iterator[str]:
    if shutil.which("docker") is None:
        pytest.fail("docker is required for the systemd round trip (scripts/testbed/setup.sh installs it)")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        pytest.fail("no Docker engine answers; start one (scripts/testbed/setup.sh does)")
    name = f"nekomorto-envfile-{uuid.uuid4().hex[:8]}"
    _docker(
        "run", "-d", "--name", name, "--network", "host", "--cgroupns", "host",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--security-opt", "seccomp=unconfined",
        _image(), "/lib/systemd/systemd",
    )
    try:
        deadline = time.monotonic() + 90
        state = ""
        while time.monotonic() < deadline:
            probe = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running"],
                                   capture_output=True, text=True, check=False)
            state = probe.stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(1)
        else:
            pytest.fail(f"systemd in the test host did not finish booting in 90 s (state: {state or 'unknown'})")
        yield name
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("app-env") / ".env"
    result = run_module(app_env.main, {"path": str(path), "variables": EXPECTED})
    assert result["changed"] is True, result.get("msg")
    return path


@pytest.fixture(scope="module")
def env_file_in_host(systemd_host: str, env_file: Path) -> str:
    _docker("exec", "-i", systemd_host, "sh", "-c", f"cat > {ENV_FILE_IN_HOST} && chmod 0600 {ENV_FILE_IN_HOST}",
            stdin=env_file.read_bytes())
    return ENV_FILE_IN_HOST


def _differences(read: dict[str, str]) -> dict[str, tuple[str | None, str]]:
    return {name: (read.get(name), value) for name, value in EXPECTED.items() if read.get(name) != value}


def test_systemd_environment_file_reads_every_value_back(systemd_host: str, env_file_in_host: str) -> None:
    output = _docker(
        "exec", systemd_host, "systemd-run", "--wait", "--pipe", "--quiet", "--collect",
        "-p", f"EnvironmentFile={env_file_in_host}", "/usr/bin/python3", "-c", PRINT_ENVIRONMENT,
    )
    assert _differences(json.loads(output)) == {}


def test_systemd_reports_no_ignored_assignment(systemd_host: str, env_file_in_host: str) -> None:
    """systemd logs and skips lines it cannot parse; there must be none."""
    _docker("exec", systemd_host, "systemd-run", "--wait", "--quiet", "--collect", "--unit", "envfile-lint",
            "-p", f"EnvironmentFile={env_file_in_host}", "/usr/bin/true")
    journal = _docker("exec", systemd_host, "journalctl", "--no-pager", "-o", "cat", "-u", "envfile-lint")
    assert "Ignoring" not in journal
    assert "invalid" not in journal.lower()


def test_host_node_reads_every_value_back(systemd_host: str, env_file_in_host: str) -> None:
    """The app host's own Node.js (Debian 13's), as the app's scripts run it: node --env-file=.env."""
    output = _docker(
        "exec", systemd_host, "env", "-i", "/usr/bin/node", f"--env-file={env_file_in_host}",
        "-e", "process.stdout.write(JSON.stringify(process.env))",
    )
    assert _differences(json.loads(output)) == {}
