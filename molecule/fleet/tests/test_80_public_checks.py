"""The app's own checks through the public URL (here the edge) run once the whole roll is done, not inside
each host's gate. In the test bed they fail: the edge on loopback forwards 127.0.0.1, so the app answers
with its detailed health payload, which its own smoke rejects. The run fails after the roll, every host
serving the restarted release, every host journaled (failed) and unlocked."""

from __future__ import annotations

import json
import shlex

import testbed
from conftest import APP1, APP1_PORT, APP3, APP3_PORT, APP_ROOT, EDGE_URL, deploy, flat, journal, unit_state, version_at


def test_public_checks_run_after_the_roll_and_their_failure_is_reported(app1, app2, app3):
    before = {APP1: unit_state(app1, "nekomorto")["MainPID"], APP3: unit_state(app3, "nekomorto")["MainPID"]}
    # A unit setting changes, so every host restarts behind its gate.
    run = deploy("v2", health_public_url=EDGE_URL, service_restart_sec=3)
    said = flat(run.output)
    assert run.rc != 0
    public = "Health | npm run api:health:check and api:smoke"
    assert run.output.count(f"TASK [nekomorto.ops.health : {public}]") == 1, run.output[-4000:]
    assert run.output.index(public) > run.output.rindex("Health gate")
    assert "detailed (loopback) payload" in said
    # The roll itself was done: every host restarted and serves v2.
    assert unit_state(app1, "nekomorto")["MainPID"] != before[APP1]
    assert unit_state(app3, "nekomorto")["MainPID"] != before[APP3]
    assert version_at(APP1_PORT) == "v2" and version_at(APP3_PORT) == "v2"
    for host in (app1, app2, app3):
        assert journal(host)[-1]["outcome"] == "failed"
    assert "api:smoke" in journal(app1)[-1]["error"]
    for host in (app1, app2, app3):
        assert not host.file(f"{APP_ROOT}/state/lock").exists


def test_public_checks_run_when_only_a_later_host_restarts(app1, app2, app3):
    public = "TASK [nekomorto.ops.health : Health | npm run api:health:check and api:smoke]"
    # Nothing restarts: no public checks (their failure here would fail the run).
    quiet = deploy("v2", health_public_url=EDGE_URL, service_restart_sec=3)
    assert quiet.rc == 0, quiet.output[-4000:]
    assert public not in quiet.output
    # app3's env file newer than its process (a roll stopped before its turn): only app3 restarts, not the
    # first host of the play; the public checks still run, once.
    pid1 = unit_state(app1, "nekomorto")["MainPID"]
    pid3 = unit_state(app3, "nekomorto")["MainPID"]
    app3.run_expect([0], f"sleep 1 && touch {APP_ROOT}/shared/.env")
    run = deploy("v2", health_public_url=EDGE_URL, service_restart_sec=3)
    assert unit_state(app1, "nekomorto")["MainPID"] == pid1
    assert unit_state(app3, "nekomorto")["MainPID"] != pid3
    assert run.output.count(public) == 1, run.output[-4000:]


def test_rbac_goes_nowhere_when_another_run_holds_one_hosts_lock(app1, app2, app3):
    # The database is shared: a migration of the users must not run from app1 while a rollback (say)
    # holds app3's lock.
    other = {"holder": "carol@elsewhere", "run_id": "20261207T000000Z-other", "playbook": "rollback",
             "started_at": "2026-12-07T00:00:00Z", "ttl_seconds": 86400000, "expires_at": "2999-01-01T00:00:00Z"}
    lock = f"{APP_ROOT}/state/lock"
    app3.run_expect([0], f"printf '%s' {shlex.quote(json.dumps(other))} > {lock}")
    try:
        lines = {host: len(journal(host)) for host in (app1, app2)}
        run = testbed.run_playbook("playbooks/rbac.yml", extra_vars={"apply": True})
        said = flat(run.output)
        assert run.rc != 0
        assert "is held by carol@elsewhere (playbook rollback" in said, run.output[-4000:]
        assert f"Stopped on {APP1} too: {APP3} failed above" in said
        assert "users:migrate-permissions-v2" not in run.output.split("Stop every host")[1]
        for host in (app1, app2):
            assert journal(host)[-1]["outcome"] == "stopped" and len(journal(host)) == lines[host] + 1
            assert not host.file(lock).exists
        assert json.loads(app3.file(lock).content_string)["run_id"] == other["run_id"]
    finally:
        app3.run_expect([0], f"rm -f {lock}")
