"""Maintenance across the fleet through the service role's apply entry point: every app host opens, then
closes, together; each host's health is checked; the load through the edge sees no failed request. app1 and
app3, the restart-strategy hosts of the batch, take turns: one is back before the other stops."""

from __future__ import annotations

import testbed
from conftest import APP1_PORT, APP2_PORTS, APP3_PORT, APP_ROOT, EDGE_URL, flat, toggle_maintenance, under_load


def _maintenance_at(port: int) -> bool:
    return testbed.http(f"http://127.0.0.1:{port}/api/health").json()["maintenanceMode"]


def _live(app2) -> str:
    return app2.file(f"{APP_ROOT}/instances/active").content_string.strip()


def _restart_window(host) -> tuple[int, int]:
    """When the app's unit last stopped and became active again (CLOCK_MONOTONIC, shared by the containers)."""
    output = host.run("systemctl show -p InactiveEnterTimestampMonotonic -p ActiveEnterTimestampMonotonic nekomorto").stdout
    times = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    return int(times["InactiveEnterTimestampMonotonic"]), int(times["ActiveEnterTimestampMonotonic"])


def _took_turns(one, other, after: int = 0) -> int:
    """Both restarted after AFTER, one after the other (either may go first: Ansible orders the turns as
    the hosts answer). Returns when the last one was back."""
    (first_down, first_up), (second_down, second_up) = sorted([_restart_window(one), _restart_window(other)])
    assert after < first_down < first_up < second_down < second_up, (after, first_down, first_up, second_down, second_up)
    return second_up


def test_open_and_close_drop_nothing(app1, app2, app3):
    live_before = _live(app2)
    other = {"blue": "green", "green": "blue"}[live_before]
    with under_load() as load:
        opened = toggle_maintenance(True)
        assert opened.rc == 0, opened.output
        assert _maintenance_at(APP1_PORT) is True and _maintenance_at(APP3_PORT) is True
        back = _took_turns(app1, app3)
        assert _live(app2) == other and _maintenance_at(APP2_PORTS[other]) is True
        refused = testbed.http(f"{EDGE_URL}/api/posts", method="POST", body={"title": "during maintenance"})
        assert refused.status == 503 and refused.json()["error"] == "maintenance_mode"

        closed = toggle_maintenance(False)
        assert closed.rc == 0, closed.output
        assert _maintenance_at(APP1_PORT) is False and _maintenance_at(APP3_PORT) is False
        _took_turns(app1, app3, after=back)
        assert _live(app2) == live_before and _maintenance_at(APP2_PORTS[live_before]) is False
        accepted = testbed.http(f"{EDGE_URL}/api/posts", method="POST", body={"title": "after maintenance"})
        assert accepted.status == 201
    assert load.report.failed == 0, load.report.as_dict()
    assert "maintenanceMode=True" in flat(opened.output) and "maintenanceMode=False" in flat(closed.output)
