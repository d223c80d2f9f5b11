"""Rolling deploy v1 -> v2 under load through the edge: app1 leaves the rotation, restarts, passes its gate
and comes back; app2 starts v2 on its green instance, the edge switches, blue stops; app3 as app1. Zero
failed requests, every host ends on v2, each migration applied once."""

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
    EDGE_URL,
    deploy,
    member,
    migration_rows,
    under_load,
    unit_state,
    upstreams_logged,
    version_at,
)


def test_rolling_deploy_drops_nothing(app1, app2, app3, edge, db):
    app1_before = unit_state(app1, "nekomorto")
    app3_before = unit_state(app3, "nekomorto")
    with under_load() as load:
        run = deploy("v2")
    assert run.rc == 0, run.output
    report = load.report
    assert report.failed == 0, report.as_dict()
    assert report.versions["v2"]["last"] >= report.versions["v1"]["last"]

    assert version_at(APP1_PORT) == "v2"
    assert unit_state(app1, "nekomorto")["MainPID"] != app1_before["MainPID"]
    assert "# rotation: in\n" in member(edge, APP1)
    assert version_at(APP3_PORT) == "v2"
    assert unit_state(app3, "nekomorto")["MainPID"] != app3_before["MainPID"]
    assert "# rotation: in\n" in member(edge, APP3)

    assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == "green"
    assert version_at(APP2_PORTS["green"]) == "v2"
    assert unit_state(app2, "nekomorto@blue")["ActiveState"] == "inactive"
    assert not app2.service("nekomorto@blue").is_enabled and app2.service("nekomorto@green").is_enabled
    assert f"server 127.0.0.1:{APP2_PORTS['green']} " in member(edge, APP2)
    assert app2.file(f"{APP_ROOT}/current").linked_to == app2.file(f"{APP_ROOT}/instances/green").linked_to

    answers = [testbed.http(f"{EDGE_URL}/api/version").json()["version"] for _attempt in range(8)]
    assert set(answers) == {"v2"}
    assert upstreams_logged(edge, 8) == {f"127.0.0.1:{APP1_PORT}", f"127.0.0.1:{APP2_PORTS['green']}",
                                         f"127.0.0.1:{APP3_PORT}"}


def test_each_migration_applied_once(db):
    rows = migration_rows(db)
    assert len(rows) == 4 and {count for _name, count in rows} == {"1"}
