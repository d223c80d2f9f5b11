"""A deploy interrupted by Ctrl-C during its build, then the runs after it (docs/deploy.md, "What a
failure leaves behind"): the live release keeps serving, the lock stays and names the run, no journal
line; another deploy is refused naming the holder; a takeover is refused until the lock expires, then
takes it and completes the deploy over the unfinished release folder.

Last in the scenario: it leaves a release of its own live.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import time

import pytest

import testbed
from conftest import APP_ROOT, APP_URL, commit_version, served_version

REPO = "/tmp/interrupted"
TAG = "v3-interrupted"
LOCK = f"{APP_ROOT}/state/lock"
# Long enough for the refusals below to run while the lock is still valid, short enough to wait out.
TTL = 150


def _deploy(**extra_vars) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/deploy.yml",
                                extra_vars={"app_version": TAG, "app_repo": REPO, **extra_vars})


def _journal(app) -> list[dict]:
    return [json.loads(line) for line in app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()]


def _building(app, release: str) -> bool:
    """npm ci of the new release has started: its node_modules folder exists."""
    return app.file(f"{APP_ROOT}/releases/{release}/node_modules").is_directory


def _busy(app) -> bool:
    """A process of the app user other than the app's own main process runs (a command of the build)."""
    main = app.run("systemctl show -p MainPID --value nekomorto").stdout.strip()
    return set(app.run("pgrep -u nekomorto").stdout.split()) - {main} != set()


@pytest.fixture(scope="module")
def interrupted(app):
    commit = commit_version(app, REPO, "v3", TAG, f"echo {TAG} > INTERRUPTED", clone=True)
    release = f"{TAG}-{commit[:12]}"
    live = app.file(f"{APP_ROOT}/current").linked_to
    served = served_version()
    journal = len(_journal(app))
    # The build keeps the lock for its three commands' timeouts plus a margin: here TTL seconds from its start.
    run = testbed.start_playbook("playbooks/deploy.yml",
                                 extra_vars={"app_version": TAG, "app_repo": REPO, "run_control_lock_ttl": TTL,
                                             "release_command_timeout": TTL // 3, "run_control_extend_margin": 0})
    try:
        reached = testbed.wait_for(lambda: _building(app, release), timeout=240, interval=0.3)
    finally:
        os.killpg(run.pid, signal.SIGINT)
        output = run.communicate(timeout=120)[0]
    assert reached, output[-3000:]
    # Ctrl-C stops the controller; a command already running on the host may go on to its end. Wait
    # for it (bounded) so that the runs below meet a quiet host, as after a real interruption.
    assert testbed.wait_for(lambda: not _busy(app), timeout=300), "the build left on the host did not end"
    return {"rc": run.returncode, "output": output, "release": release, "live": live, "served": served,
            "journal": journal}


def test_the_interrupted_deploy_stops_and_the_live_release_keeps_serving(app, interrupted):
    assert interrupted["rc"] != 0
    assert "User interrupted execution" in interrupted["output"], interrupted["output"][-3000:]
    assert app.file(f"{APP_ROOT}/current").linked_to == interrupted["live"]
    assert served_version() == interrupted["served"]
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"
    # The release folder it was building has no manifest: it does not count as built.
    folder = f"{APP_ROOT}/releases/{interrupted['release']}"
    assert app.file(folder).is_directory
    assert not app.file(f"{folder}/.nekomorto-release.json").exists


def test_the_lock_stays_and_no_journal_line_is_written(app, interrupted):
    lock = json.loads(app.file(LOCK).content_string)
    assert lock["playbook"] == "deploy"
    assert len(_journal(app)) == interrupted["journal"]


def test_another_deploy_is_refused_naming_the_holder_and_changes_nothing(app, interrupted):
    lock = json.loads(app.file(LOCK).content_string)
    before = testbed.app_snapshot(app)
    run = _deploy()
    said = " ".join(run.output.split())
    assert run.rc != 0
    assert f"is held by {lock['holder']} (playbook deploy, run {lock['run_id']}) since {lock['started_at']}" in said, \
        run.output[-3000:]
    assert "Wait for that run to end" in said
    assert testbed.app_snapshot(app) == before
    assert json.loads(app.file(LOCK).content_string) == lock


def test_a_takeover_is_refused_while_the_lock_has_not_expired(app, interrupted):
    lock = json.loads(app.file(LOCK).content_string)
    before = testbed.app_snapshot(app)
    run = _deploy(run_control_lock_takeover=True)
    assert run.rc != 0
    assert "can be taken over once it expires" in " ".join(run.output.split()), run.output[-3000:]
    assert testbed.app_snapshot(app) == before
    assert json.loads(app.file(LOCK).content_string) == lock


def test_after_it_expires_the_lock_is_taken_over_and_the_deploy_completes(app, interrupted):
    lock = json.loads(app.file(LOCK).content_string)
    expires = datetime.datetime.fromisoformat(lock["expires_at"].replace("Z", "+00:00"))
    host_now = datetime.datetime.fromisoformat(app.run("date -u +%Y-%m-%dT%H:%M:%S+00:00").stdout.strip())
    time.sleep(max(0.0, (expires - host_now).total_seconds()) + 2)

    stale = _deploy()
    assert stale.rc != 0
    assert "is stale" in " ".join(stale.output.split()), stale.output[-3000:]

    run = _deploy(run_control_lock_takeover=True)
    assert run.rc == 0, run.output[-4000:]
    assert "Took over the stale deploy lock" in " ".join(run.output.split())
    current = app.file(f"{APP_ROOT}/current").linked_to
    assert current == f"{APP_ROOT}/releases/{interrupted['release']}"
    manifest = json.loads(app.file(f"{current}/.nekomorto-release.json").content_string)
    assert manifest["status"] == "built"
    assert app.file(f"{current}/INTERRUPTED").content_string.strip() == TAG
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"
    assert not app.file(LOCK).exists
    last = _journal(app)[-1]
    assert (last["kind"], last["outcome"], last["version"]) == ("deploy", "success", TAG)
