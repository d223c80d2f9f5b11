"""A migration fails (it runs once, on app1): no host switches, and every host of the fleet gets its journal
line and its lock back. The failed migration is resolved at the end, as an operator would."""

from __future__ import annotations

import testbed
from conftest import (
    APP1,
    APP1_PORT,
    APP2,
    APP2_PORTS,
    APP3,
    APP3_PORT,
    APP_ROOT,
    DB_PORT,
    deploy,
    flat,
    journal,
    version_at,
)

BAD = "20260301000000_project_tags"


def test_a_failed_migration_stops_every_host_and_releases_every_lock(app1, app2, app3, db):
    hosts = {APP1: app1, APP2: app2, APP3: app3}
    live = {name: host.file(f"{APP_ROOT}/current").linked_to for name, host in hosts.items()}
    run = deploy("v3-bad-migration")
    said = flat(run.output)
    assert run.rc != 0
    assert BAD in said and "NOT switched" in said, run.output[-4000:]
    failed = testbed.psql(db, f"SELECT count(*) FROM _prisma_migrations WHERE migration_name = '{BAD}' "
                              "AND finished_at IS NULL AND rolled_back_at IS NULL", port=DB_PORT)
    assert failed == [["1"]]
    for name, host in hosts.items():
        assert host.file(f"{APP_ROOT}/current").linked_to == live[name]
        assert not host.file(f"{APP_ROOT}/state/lock").exists, name
    assert version_at(APP1_PORT) == "v2"
    active = app2.file(f"{APP_ROOT}/instances/active").content_string.strip()
    assert version_at(APP2_PORTS[active]) == "v2"
    assert version_at(APP3_PORT) == "v2"

    # The migrations run once (on app1): their failure fails every host, each journaled.
    assert journal(app1)[-1]["outcome"] == "failed" and BAD in journal(app1)[-1]["error"]
    for host in (app2, app3):
        entry = journal(host)[-1]
        assert entry["outcome"] == "failed" and entry["run_id"] == journal(app1)[-1]["run_id"]
        assert "failed on another host" in entry["error"]

    resolved = testbed.run_playbook("playbooks/migrate_resolve.yml", extra_vars={"migration": BAD, "resolve": "rolled-back"})
    assert resolved.rc == 0, resolved.output[-3000:]
