"""Blue/green gate failure on app2: the release starts on the idle instance and fails there; the live
instance keeps serving untouched and the edge never switches."""

from __future__ import annotations

from conftest import APP2, APP2_PORTS, APP_ROOT, deploy, flat, member, under_load, unit_state, version_at


def test_an_unhealthy_release_never_reaches_the_edge(app2, edge):
    live_before = unit_state(app2, "nekomorto@green")
    with under_load() as load:
        run = deploy("v2-unhealthy", "--limit", APP2, service_health_timeout=8)
    assert run.rc != 0
    assert "failed its health gate on the idle instance blue" in flat(run.output)
    assert "still serves v2-" in flat(run.output)
    assert load.report.failed == 0, load.report.as_dict()
    assert set(load.report.versions) == {"v2"}

    assert unit_state(app2, "nekomorto@green") == live_before
    assert unit_state(app2, "nekomorto@blue")["ActiveState"] == "inactive"
    assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == "green"
    assert f"server 127.0.0.1:{APP2_PORTS['green']} " in member(edge, APP2)
    assert version_at(APP2_PORTS["green"]) == "v2"
    manifest = app2.run(f"cat {APP_ROOT}/releases/v2-unhealthy-*/.nekomorto-release.json").stdout
    assert '"failed"' in manifest
