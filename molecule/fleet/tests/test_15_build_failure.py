"""The build fails on one host of the fleet (app2 cannot read the npm cache): no host migrates or switches.
app2 journals its failure; app1 and app3, which built the release, stop too (journal "stopped", naming
app2), every lock is released, and v1 keeps serving everywhere with v2's migration not applied."""

from __future__ import annotations

from conftest import (
    APP1,
    APP1_PORT,
    APP2,
    APP2_PORTS,
    APP3,
    APP3_PORT,
    APP_ROOT,
    deploy,
    flat,
    journal,
    migration_rows,
    version_at,
)

CACHE = "/var/cache/nekomorto-npm"
V2_MIGRATION = "20260201000000_project_featured"


def test_a_build_failing_on_one_host_stops_every_host(app1, app2, app3, db):
    hosts = {APP1: app1, APP2: app2, APP3: app3}
    live = {name: host.file(f"{APP_ROOT}/current").linked_to for name, host in hosts.items()}
    mode = app2.run(f"stat -c %a {CACHE}").stdout.strip()
    app2.run_expect([0], f"chmod 000 {CACHE}")
    try:
        run = deploy("v2")
    finally:
        app2.run_expect([0], f"chmod {mode} {CACHE}")
    said = flat(run.output)
    assert run.rc != 0
    assert f"Stopped on {APP1} too: {APP2} failed above" in said, run.output[-4000:]
    assert f"Stopped on {APP3} too: {APP2} failed above" in said

    # The other hosts built v2 but went no further: nothing migrated, nothing switched.
    assert V2_MIGRATION not in dict(migration_rows(db))
    for name, host in hosts.items():
        assert host.file(f"{APP_ROOT}/current").linked_to == live[name]
        assert not host.file(f"{APP_ROOT}/state/lock").exists
    for name in (APP1, APP3):
        assert any(release.startswith("v2-") for release in hosts[name].file(f"{APP_ROOT}/releases").listdir())
    assert version_at(APP1_PORT) == "v1"
    assert version_at(APP2_PORTS["blue"]) == "v1"
    assert version_at(APP3_PORT) == "v1"

    assert journal(app2)[-1]["outcome"] == "failed"
    for host in (app1, app3):
        entry = journal(host)[-1]
        assert entry["outcome"] == "stopped" and entry["run_id"] == journal(app2)[-1]["run_id"]
        assert entry["error"] == f"stopped because {APP2} failed"
