"""A release that fails its gate on the first host of the roll: the roll stops, that host returns to v1
and serves, the other hosts are untouched, the report names each, and the load through the edge sees no
failure (app1 was out of rotation while it restarted).

The release is deployed with another Node.js runtime (the pinned one, from a tarball the controller
provides), which every host installs and links before the roll: each host, returned or not reached,
ends with <app_root>/node back on the distribution's runtime its live v1 runs on."""

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
    deploy,
    flat,
    journal,
    member,
    migration_rows,
    under_load,
    unit_state,
    version_at,
)


NODEJS = "node-v24.14.0-linux-x64"
DIST = testbed.ROOT / ".cache" / "nodejs-dist" / "v24.14.0"


def test_a_failed_gate_stops_the_roll(app1, app2, app3, edge, db):
    assert (DIST / "SHASUMS256.txt").is_file(), "scripts/testbed/setup.sh builds the Node.js mirror"
    app2_before = unit_state(app2, "nekomorto@blue")
    app2_release = app2.file(f"{APP_ROOT}/current").linked_to
    app3_before = unit_state(app3, "nekomorto")
    app3_release = app3.file(f"{APP_ROOT}/current").linked_to
    with under_load() as load:
        run = deploy("v2-unhealthy", service_health_timeout=8, nodejs_source="archive",
                     nodejs_archive_path=str(DIST / f"{NODEJS}.tar.xz"),
                     nodejs_archive_sha256=(DIST / "SHASUMS256.txt").read_text().split()[0])
    assert run.rc != 0
    assert "failed its health gate" in flat(run.output) and "Returned to v1-" in flat(run.output)
    assert load.report.failed == 0, load.report.as_dict()
    assert set(load.report.versions) == {"v1"}

    # The report names every host and what the run did to each.
    assert f"{APP1}: serves v1-" in flat(run.output) and "returned to the previous release" in flat(run.output)
    assert f"{APP2}: serves v1-" in flat(run.output) and "untouched: the roll stopped before it" in flat(run.output)
    assert f"{APP3}: serves v1-" in flat(run.output)

    # app1 is back on v1, serves, and is back in the edge's rotation.
    assert version_at(APP1_PORT) == "v1"
    assert "# rotation: in\n" in member(edge, APP1)
    # app2 was never touched.
    assert unit_state(app2, "nekomorto@blue") == app2_before
    assert app2.file(f"{APP_ROOT}/current").linked_to == app2_release
    assert unit_state(app2, "nekomorto@green")["ActiveState"] == "inactive"
    assert version_at(APP2_PORTS["blue"]) == "v1"
    # app3 neither.
    assert unit_state(app3, "nekomorto") == app3_before
    assert app3.file(f"{APP_ROOT}/current").linked_to == app3_release
    assert version_at(APP3_PORT) == "v1"

    # Every host is journaled and unlocked: a re-run is not blocked.
    assert journal(app1)[-1]["outcome"] == "failed"
    for host in (app2, app3):
        assert journal(host)[-1]["outcome"] == "stopped"
        assert journal(host)[-1]["run_id"] == journal(app1)[-1]["run_id"]
    for host in (app1, app2, app3):
        assert not host.file(f"{APP_ROOT}/state/lock").exists
        # Installed for the new release, but the link is back on the runtime v1 runs on.
        assert host.file(f"/opt/nodejs/{NODEJS}/bin/node").exists
        assert host.file(f"{APP_ROOT}/node").linked_to == "/usr"

    # v2-unhealthy carries v2's migration: applied once, before the switch, by one host.
    rows = dict(migration_rows(db))
    assert rows.get("20260201000000_project_featured") == "1"
    fleet = journal(app2)[-1]["fleet"]
    assert [line.split(":")[0] for line in fleet] == [APP1, APP2, APP3]
