"""The operator's rotation commands: out and back in with a graceful reload; never the last host."""

from __future__ import annotations

import testbed
from conftest import APP1, APP1_PORT, APP2, APP2_PORTS, APP3, APP3_PORT, APP_ROOT, EDGE_URL, flat, member, upstreams_logged


def _rotation(state: str, host: str) -> testbed.PlaybookRun:
    return testbed.run_playbook("playbooks/edge_rotation.yml", "--limit", host, extra_vars={"rotation": state})


def test_out_of_rotation_and_back(edge, app2):
    app2_live = f"127.0.0.1:{APP2_PORTS[app2.file(f'{APP_ROOT}/instances/active').content_string.strip()]}"
    for host in (APP1, APP3):
        run = _rotation("out", host)
        assert run.rc == 0, run.output
        assert "# rotation: out (operator)\n" in member(edge, host) and " down;" in member(edge, host)
    assert {testbed.http(f"{EDGE_URL}/api/version").status for _attempt in range(8)} == {200}
    assert upstreams_logged(edge, 8) == {app2_live}

    refused = _rotation("out", APP2)
    assert refused.rc != 0 and "no app host to send" in flat(refused.output)
    assert "# rotation: in\n" in member(edge, APP2)

    # A re-run of the edge configuration keeps the operator's decision.
    configured = testbed.run_playbook("playbooks/edge.yml")
    assert configured.rc == 0, configured.output
    assert configured.recap()["nekomorto-fl-edge"]["changed"] == 0
    assert "# rotation: out (operator)\n" in member(edge, APP1)

    for host in (APP1, APP3):
        back = _rotation("in", host)
        assert back.rc == 0, back.output
        assert "# rotation: in\n" in member(edge, host)
    assert {testbed.http(f"{EDGE_URL}/api/version").status for _attempt in range(9)} == {200}
    assert upstreams_logged(edge, 9) == {f"127.0.0.1:{APP1_PORT}", app2_live, f"127.0.0.1:{APP3_PORT}"}
