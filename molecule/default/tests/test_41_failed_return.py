"""The automatic return fails too (the previous release no longer starts): the failure says what is left."""

from __future__ import annotations

import json
import posixpath

import testbed
from conftest import APP_ROOT, APP_URL, deploy, served_version


def test_a_return_that_fails_too_says_what_the_host_is_left_with(app):
    """Before, the run ended with the return's health error alone, as if the new release were the problem."""
    live = app.file(f"{APP_ROOT}/current").linked_to
    entry = f"{live}/server/index.js"
    mode = app.run(f"stat -c %a {entry}").stdout.strip()
    # The running process is not touched; a restart of the live release cannot read its entry point.
    app.run_expect([0], f"chmod 000 {entry}")
    try:
        run = deploy("v2-unhealthy", service_health_timeout=10)
    finally:
        app.run_expect([0], f"chmod {mode} {entry}")
    assert run.rc != 0
    assert "failed its health gate" in run.output
    assert f"The automatic return to {posixpath.basename(live)} failed too" in run.output, run.output[-3000:]
    assert f"Left behind: current points at {posixpath.basename(live)}, the env file is as before this run, " \
           "the app is NOT healthy." in run.output
    assert "NOT reverted" in run.output
    assert "Returned to" not in run.output
    assert app.file(f"{APP_ROOT}/current").linked_to == live
    last = json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])
    assert last["outcome"] == "failed"
    assert "failed too" in last["error"]
    assert not app.file(f"{APP_ROOT}/state/lock").exists
    # Once the cause is fixed, the next deploy of the live version brings it back.
    again = deploy("v2")
    assert again.rc == 0, again.output[-3000:]
    assert served_version() == "v2"
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"
