"""A blue/green host whose env file is newer than its live instance (written by a run that stopped before
this host's switch, e.g. a roll stopped at another host) starts a new instance on the next deploy of the
same version, though nothing else changed. Once the new instance serves, a re-run starts nothing."""

from __future__ import annotations

from conftest import APP2, APP2_PORTS, APP_ROOT, deploy, member, unit_state, version_at


def _active(app2) -> str:
    return app2.file(f"{APP_ROOT}/instances/active").content_string.strip()


def test_an_env_file_newer_than_the_live_instance_is_picked_up(app2, edge):
    live = _active(app2)
    idle = {"blue": "green", "green": "blue"}[live]
    version = version_at(APP2_PORTS[live])
    app2.run_expect([0], f"sleep 1 && touch {APP_ROOT}/shared/.env")
    run = deploy(version, "--limit", APP2)
    assert run.rc == 0, run.output[-3000:]
    assert _active(app2) == idle
    assert unit_state(app2, f"nekomorto@{idle}")["ActiveState"] == "active"
    assert unit_state(app2, f"nekomorto@{live}")["ActiveState"] == "inactive"
    assert f"server 127.0.0.1:{APP2_PORTS[idle]} " in member(edge, APP2)
    assert version_at(APP2_PORTS[idle]) == version

    again = deploy(version, "--limit", APP2)
    assert again.rc == 0, again.output[-3000:]
    assert _active(app2) == idle
    assert again.recap()[APP2]["changed"] == 0
