"""A blue/green switch interrupted after the edge moved to the new instance, before the colour was recorded
(and `current` switched, and the old instance stopped): the next run takes the instance the edge sends
requests to as the live one and finishes the switch, instead of restarting that instance as the idle one."""

from __future__ import annotations

from conftest import APP2, APP2_PORTS, APP_ROOT, deploy, flat, member, under_load, unit_state, version_at


def test_the_next_run_finishes_the_switch_without_touching_the_serving_instance(app2, edge):
    live = app2.file(f"{APP_ROOT}/instances/active").content_string.strip()
    before = {"blue": "green", "green": "blue"}[live]
    version = version_at(APP2_PORTS[live])
    live_release = app2.file(f"{APP_ROOT}/instances/{live}").linked_to
    assert f"server 127.0.0.1:{APP2_PORTS[live]} " in member(edge, APP2)
    # What the interrupted run left: the record and `current` still on the instance before, which still runs.
    app2.run_expect([0], f"echo {before} > {APP_ROOT}/instances/active")
    app2.run_expect([0], f"ln -sfn $(readlink {APP_ROOT}/instances/{before}) {APP_ROOT}/current")
    app2.run_expect([0], f"systemctl start nekomorto@{before}")
    serving = unit_state(app2, f"nekomorto@{live}")
    with under_load() as load:
        run = deploy(version, "--limit", APP2)
    assert run.rc == 0, run.output[-3000:]
    assert "a switch was interrupted after the edge moved" in flat(run.output)
    assert load.report.failed == 0, load.report.as_dict()
    # The instance the edge sends to was not restarted; the switch is finished around it.
    assert unit_state(app2, f"nekomorto@{live}")["MainPID"] == serving["MainPID"]
    assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == live
    assert app2.file(f"{APP_ROOT}/current").linked_to == live_release
    assert unit_state(app2, f"nekomorto@{before}")["ActiveState"] == "inactive"
    assert f"server 127.0.0.1:{APP2_PORTS[live]} " in member(edge, APP2)

    again = deploy(version, "--limit", APP2)
    assert again.rc == 0, again.output[-3000:]
    assert again.recap()[APP2]["changed"] == 0
    assert "a switch was interrupted" not in flat(again.output)
