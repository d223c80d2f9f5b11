"""A blue/green switch interrupted after the edge moved to the new instance, before the colour was recorded
(and `current` switched, and the old instance stopped): the next run takes the instance the edge sends
requests to as the live one and finishes the switch, instead of restarting that instance as the idle one. Also
after a first switch from the restart strategy's unit, and when the next run is a maintenance window."""

from __future__ import annotations

import re

import testbed
from conftest import APP2, APP2_PORTS, APP_ROOT, answers, deploy, flat, member, under_load, unit_state, version_at


def _edge_port(edge) -> int:
    return int(re.search(r"server 127\.0\.0\.1:(\d+) ", member(edge, APP2)).group(1))


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


def test_an_interrupted_first_switch_leaves_no_unit_of_the_restart_strategy_running(app2, edge):
    """A first switch from the restart strategy's unit, interrupted after the edge moved to green, before anything
    was recorded: that unit went on running (and starting at boot) on app_port, which is blue's port here, so the
    next release could not start on blue. The next run stops it, with or without something to restart."""
    unit = "/etc/systemd/system/nekomorto.service"
    if app2.file(f"{APP_ROOT}/instances/active").content_string.strip() != "green":
        # The restart strategy's unit shares blue's port: green must be the live instance. An env file newer than
        # the live process makes the same version start on the other instance.
        app2.run_expect([0], f"touch {APP_ROOT}/shared/.env")
        flipped = deploy(version_at(APP2_PORTS["blue"]), "--limit", APP2)
        assert flipped.rc == 0, flipped.output[-3000:]
    assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == "green"
    version = version_at(APP2_PORTS["green"])

    def interrupted() -> None:
        # The unit of the restart strategy, as it ran before the switch: on app_port, with blue stopped.
        app2.run_expect([0], f"sed 's/%i/blue/g' /etc/systemd/system/nekomorto@.service > {unit} && systemctl daemon-reload"
                             f" && systemctl enable --now nekomorto && rm -f {APP_ROOT}/instances/active")
        assert testbed.wait_for(lambda: answers(f"http://127.0.0.1:{APP2_PORTS['blue']}/api/version"), timeout=60)

    try:
        interrupted()
        green = unit_state(app2, "nekomorto@green")["MainPID"]
        run = deploy(version, "--limit", APP2)
        assert run.rc == 0, run.output[-3000:]
        assert "a switch was interrupted after the edge moved" in flat(run.output)
        assert unit_state(app2, "nekomorto")["ActiveState"] == "inactive"
        assert app2.run("systemctl is-enabled nekomorto").stdout.strip() == "disabled"
        assert unit_state(app2, "nekomorto@green")["MainPID"] == green
        assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == "green"

        # With something to restart: the new instance is blue, on the port that unit held, so the unit must be stopped
        # before blue starts (blue would fail to listen, then start again by its restart policy once the port is free).
        interrupted()
        app2.run_expect([0], f"touch {APP_ROOT}/shared/.env")
        started = app2.run("date +%s").stdout.strip()
        run = deploy(version, "--limit", APP2)
        assert run.rc == 0, run.output[-3000:]
        assert "EADDRINUSE" not in app2.run(f"journalctl -u nekomorto@blue --since @{started} --no-pager").stdout
        assert "a switch was interrupted after the edge moved" in flat(run.output)
        assert unit_state(app2, "nekomorto")["ActiveState"] == "inactive"
        assert app2.run("systemctl is-enabled nekomorto").stdout.strip() == "disabled"
        assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == "blue"
        assert f"server 127.0.0.1:{APP2_PORTS['blue']} " in member(edge, APP2)
        assert unit_state(app2, "nekomorto@green")["ActiveState"] == "inactive"
        assert version_at(APP2_PORTS["blue"]) == version
    finally:
        app2.run(f"systemctl disable --now nekomorto; rm -f {unit}; systemctl daemon-reload")
        if not app2.file(f"{APP_ROOT}/instances/active").exists:
            colour = {port: name for name, port in APP2_PORTS.items()}[_edge_port(edge)]
            app2.run_expect([0], f"echo {colour} > {APP_ROOT}/instances/active")


def test_a_maintenance_window_on_an_interrupted_switch_keeps_the_release_that_serves(app2, edge):
    """The window's restart (blue/green: the live release on the idle instance) took the release `current` names.
    After a switch interrupted once the edge moved, that is the release before the deploy: the window served it
    (on a database already migrated for the new one). It now starts the release of the instance the edge sends
    requests to, and finishes the switch."""
    live = app2.file(f"{APP_ROOT}/instances/active").content_string.strip()
    before = {"blue": "green", "green": "blue"}[live]
    version = version_at(APP2_PORTS[live])
    live_release = app2.file(f"{APP_ROOT}/instances/{live}").linked_to
    older = app2.run(f"ls -d {APP_ROOT}/releases/v1-*").stdout.split()
    assert len(older) == 1 and older[0] != live_release
    assert _edge_port(edge) == APP2_PORTS[live]
    # What the interrupted run left: the record and `current` on the instance before, which runs the older release.
    app2.run_expect([0], f"ln -sfn {older[0]} {APP_ROOT}/instances/{before} && echo {before} > {APP_ROOT}/instances/active"
                         f" && ln -sfn {older[0]} {APP_ROOT}/current && systemctl start nekomorto@{before}")
    window = {"maintenance_allow_partial": True}
    try:
        opened = testbed.run_playbook("playbooks/maintenance.yml", "--limit", APP2,
                                      extra_vars={"maintenance_state": "open", **window})
        assert opened.rc == 0, opened.output[-3000:]
        assert "a switch was interrupted after the edge moved" in flat(opened.output)
        assert _edge_port(edge) == APP2_PORTS[before]
        assert version_at(APP2_PORTS[before]) == version
        assert app2.file(f"{APP_ROOT}/current").linked_to == live_release
        assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == before
    finally:
        # Whatever happened above, the window's close must not start the older release for the tests after this one.
        app2.run_expect([0], f"[ \"$(readlink -f {APP_ROOT}/current)\" = {live_release} ] || ln -sfn {live_release} {APP_ROOT}/current")
        closed = testbed.run_playbook("playbooks/maintenance.yml", "--limit", APP2,
                                      extra_vars={"maintenance_state": "closed", **window})
    assert closed.rc == 0, closed.output[-3000:]
    assert version_at(_edge_port(edge)) == version
    assert app2.file(f"{APP_ROOT}/current").linked_to == live_release
