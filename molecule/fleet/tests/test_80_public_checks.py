"""The app's own checks through the public URL (here the edge) run once the whole roll is done, not inside
each host's gate. In the test bed they fail: the edge on loopback forwards 127.0.0.1, so the app answers
with its detailed health payload, which its own smoke rejects. The run fails after the roll, every host
serving the restarted release, every host journaled (failed) and unlocked."""

from __future__ import annotations

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
