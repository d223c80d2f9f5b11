"""--check of the first blue/green deploy of a host that ran the restart strategy (app1): the instance unit
is not installed yet, so check mode cannot ask systemd about the instances. It reports the plan and
changes nothing: no instance unit, the unit of the restart strategy still serving, the edge unchanged."""

from __future__ import annotations

from conftest import APP1, APP1_PORT, APP_ROOT, deploy, flat, member, unit_state, version_at


def test_check_mode_of_a_first_blue_green_deploy(app1, edge):
    live = version_at(APP1_PORT)
    unit_before = unit_state(app1, "nekomorto")
    member_before = member(edge, APP1)
    run = deploy(live, "--check", "--limit", APP1, service_strategy="blue_green")
    assert run.rc == 0, run.output[-3000:]
    assert "failed its health gate" not in flat(run.output)
    assert not app1.file("/etc/systemd/system/nekomorto@.service").exists
    assert not app1.file(f"{APP_ROOT}/instances").exists
    assert unit_state(app1, "nekomorto") == unit_before
    assert member(edge, APP1) == member_before
    assert version_at(APP1_PORT) == live
