"""Helpers shared by the molecule scenarios' testinfra tests.

The tests run on the controller: they drive the collection's playbooks against the scenario's
containers (molecule's inventory) and observe the result on the hosts (testinfra over the docker
connection), in the database (psql on the database host) and over HTTP (loopback only).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import testinfra

ROOT = pathlib.Path(__file__).resolve().parents[3]


def inventory_dir() -> str:
    """Molecule's inventory folder (the inventory file plus its group_vars/host_vars)."""
    return str(pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)


@dataclass
class PlaybookRun:
    rc: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        """Per host counters of the PLAY RECAP lines (ok, changed, failed, ...)."""
        counters: dict[str, dict[str, int]] = {}
        for line in self.output.splitlines():
            if ": ok=" not in line:
                continue
            name, rest = line.split(":", 1)
            values = dict(item.split("=") for item in rest.split() if "=" in item)
            counters.setdefault(name.strip(), {key: 0 for key in values})
            for key, value in values.items():
                counters[name.strip()][key] = counters[name.strip()].get(key, 0) + int(value)
        return counters


def run_playbook(playbook: str, *args: str, extra_vars: dict | None = None, timeout: int = 900) -> PlaybookRun:
    """Runs a playbook of the collection (path relative to the repository) against the scenario."""
    command, env = _playbook_command(playbook, *args, extra_vars=extra_vars)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return PlaybookRun(done.returncode, done.stdout + done.stderr)


def start_playbook(playbook: str, *args: str, extra_vars: dict | None = None) -> subprocess.Popen:
    """Starts the same run in the background, in a session of its own, so that a test can interrupt it the
    way Ctrl-C does (a signal to its whole process group); stdout and stderr come together."""
    command, env = _playbook_command(playbook, *args, extra_vars=extra_vars)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _playbook_command(playbook: str, *args: str, extra_vars: dict | None = None) -> tuple[list[str], dict]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        # JSON results keep every message on one line, so tests can search them.
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_CALLBACK_FORMAT_PRETTY="false",
        ANSIBLE_PIPELINING="True",
    )
    command = ["ansible-playbook", "-i", inventory_dir(), str(ROOT / playbook), *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    return command, env


def host(name: str):
    """A testinfra host over the docker connection."""
    return testinfra.get_host(f"docker://{name}")


def psql(db_host, sql: str, database: str = "nekomorto", port: int = 55432) -> list[list[str]]:
    """Rows of a query run as the postgres superuser on the database host (tab-separated)."""
    result = db_host.run(
        "su postgres -c %s",
        f"psql -X -q -t -A -F '\t' -p {port} -d {database} -c {json.dumps(sql)}",
    )
    assert result.rc == 0, result.stderr
    return [line.split("\t") for line in result.stdout.splitlines() if line]


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def http(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None,
         timeout: float = 5) -> HttpAnswer:
    """One HTTP request to a loopback URL, returning the answer whatever its status."""
    assert url.startswith(("http://127.0.0.1", "http://[::1]")), "test traffic stays on loopback"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return HttpAnswer(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, dict(error.headers), error.read())


def wait_for(predicate, timeout: float = 30, interval: float = 0.5):
    """Polls predicate() until it returns a truthy value (returned) or the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def app_snapshot(app_host, app_root: str = "/srv/nekomorto", service: str = "nekomorto") -> dict:
    """What a run may change on an app host, for before/after comparisons."""
    script = (
        f"cd {app_root} 2>/dev/null || exit 0; "
        "readlink current; readlink previous; ls -1 releases 2>/dev/null | sort; "
        "sha256sum shared/.env 2>/dev/null; "
        f"sha256sum /etc/systemd/system/{service}.service 2>/dev/null; "
        f"systemctl show -p ActiveState -p MainPID -p NRestarts {service} 2>/dev/null; "
        "find shared/public/uploads -type f -exec sha256sum {} + 2>/dev/null | sort; "
        "ls -1 state 2>/dev/null | grep -v journal"
    )
    return {"state": app_host.run(script).stdout}
