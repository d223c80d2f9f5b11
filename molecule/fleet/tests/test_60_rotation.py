"""The operator's rotation commands: out and back in with a graceful reload; never the last host."""

from __future__ import annotations

import json
import shlex

import testbed
from conftest import APP1, APP1_PORT, APP2, APP2_PORTS, APP3, APP3_PORT, APP_ROOT, EDGE_URL, answers, flat, member, upstreams_logged


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


def test_a_configuration_nginx_cannot_apply_stops_the_change(edge):
    """nginx -t passes a listen address another process holds (it ignores EADDRINUSE), the running nginx then
    fails to take the configuration and keeps its old workers, and systemctl's reload still succeeds: the
    rotation reported the host out while the edge went on sending it requests."""
    taken = "127.0.0.1:38999"
    holder = "/tmp/hold_the_port.py"
    extra = "/etc/nginx/conf.d/zz-port-held-elsewhere.conf"
    script = "import socket, time\nlistener = socket.socket()\nlistener.bind(('127.0.0.1', 38999))\nlistener.listen()\ntime.sleep(600)\n"
    edge.run(f"cat > {holder} <<'END'\n{script}END\nsetsid -f python3 {holder} > /dev/null 2>&1")
    connect = "python3 -c \"import socket; socket.create_connection(('127.0.0.1', 38999), 1)\""
    assert testbed.wait_for(lambda: edge.run(connect).rc == 0, timeout=10)
    edge.run(f"echo 'server {{ listen {taken}; return 204; }}' > {extra}")
    try:
        assert edge.run("nginx -t -q").rc == 0
        # The reload's wait, edge_reload_timeout, is the time nginx has to start a new worker.
        run = testbed.run_playbook("playbooks/edge_rotation.yml", "--limit", APP1,
                                   extra_vars={"rotation": "out", "edge_reload_timeout": 8})
        assert run.rc != 0
        assert "nginx kept its old configuration (no new worker within 8 s)" in flat(run.output), run.output[-3000:]
        assert "the edge sends requests as before the change" in flat(run.output)
    finally:
        edge.run(f"rm -f {extra}; pkill -f {holder}")
    back = _rotation("in", APP1)
    assert back.rc == 0, back.output
    assert "# rotation: in\n" in member(edge, APP1)


def test_values_nginx_would_refuse_are_refused_before_the_edge_changes(edge):
    """Found by nginx -t only after the site file was written: the running nginx kept its configuration,
    but its next start would have failed on the file."""
    files = "find /etc/nginx -type f -print0 | sort -z | xargs -0 sha256sum"
    before = edge.run(files).stdout
    run = testbed.run_playbook("playbooks/edge.yml", extra_vars={
        "edge_proxy_read_timeout": "60 s", "edge_client_max_body_size": "64mb", "edge_server_names": ["a b"]})
    assert run.rc != 0
    said = flat(run.output)
    assert "edge_proxy_read_timeout must be an nginx time such as 10s, 500ms or 1m30s (got 60 s)" in said, run.output[-2000:]
    assert "edge_client_max_body_size must be an nginx size such as 64m (got 64mb)" in said
    assert "edge_server_names entries must be names without spaces" in said and "Nothing was changed" in said
    assert edge.run(files).stdout == before
    assert edge.run("nginx -t -q").rc == 0


def test_a_host_that_does_not_answer_healthy_is_not_put_back(edge, app3):
    """It was put back at once: the edge sent requests to a host that could not answer them."""
    assert _rotation("out", APP3).rc == 0
    app3.run_expect([0], "systemctl stop nekomorto")
    try:
        refused = _rotation("in", APP3)
        assert refused.rc != 0
        said = flat(refused.output)
        assert f"Not put back into rotation: {APP3} (http://127.0.0.1:{APP3_PORT}/api/health)" in said, said[-2000:]
        assert "Nothing was changed" in said
        assert "# rotation: out (operator)\n" in member(edge, APP3)
    finally:
        app3.run_expect([0], "systemctl start nekomorto")
    assert testbed.wait_for(lambda: answers(f"http://127.0.0.1:{APP3_PORT}/api/health"), timeout=60)
    back = _rotation("in", APP3)
    assert back.rc == 0, back.output
    assert "# rotation: in\n" in member(edge, APP3)


def test_a_host_another_run_holds_is_left_alone(edge, app3):
    """A rotation change during a deploy's roll was undone by the roll, or undid its step (a host put back
    while restarting). A lock past its time, left by a run that died, no longer stops it."""
    lock = f"{APP_ROOT}/state/lock"
    other = {"holder": "carol@elsewhere", "run_id": "20261207T000000Z-other", "playbook": "deploy",
             "started_at": "2026-12-07T00:00:00Z", "ttl_seconds": 86400000, "expires_at": "2999-01-01T00:00:00Z"}
    app3.run_expect([0], f"printf '%s' {shlex.quote(json.dumps(other))} > {lock}")
    try:
        refused = _rotation("out", APP3)
        said = flat(refused.output)
        assert refused.rc != 0
        assert f"The run lock of {APP3} is held by carol@elsewhere (playbook deploy, run 20261207T000000Z-other)" in said, said[-2000:]
        assert "Nothing was changed" in said
        assert "# rotation: in\n" in member(edge, APP3)
        # The operator knows that run is gone.
        forced = testbed.run_playbook("playbooks/edge_rotation.yml", "--limit", APP3,
                                      extra_vars={"rotation": "out", "rotation_ignore_lock": True})
        assert forced.rc == 0, forced.output[-3000:]
        assert "# rotation: out (operator)\n" in member(edge, APP3)
        stale = dict(other, ttl_seconds=60, expires_at="2026-12-07T00:01:00Z")
        app3.run_expect([0], f"printf '%s' {shlex.quote(json.dumps(stale))} > {lock}")
        back = _rotation("in", APP3)
        assert back.rc == 0, back.output[-3000:]
        assert "# rotation: in\n" in member(edge, APP3)
        assert json.loads(app3.file(lock).content_string) == stale
    finally:
        app3.run_expect([0], f"rm -f {lock}")
        if "# rotation: in\n" not in member(edge, APP3):
            _rotation("in", APP3)


def test_check_mode_on_an_edge_never_configured_says_what_it_would_do(db):
    """It failed at the first member file (no members folder yet). The database host, which has nginx installed
    and never configured, plays the new edge."""
    files = "find /etc/nginx -print0 | sort -z | xargs -0 stat -c '%n %s %Y'"
    before = db.run(files).stdout
    run = testbed.run_playbook("playbooks/edge.yml", "--check", extra_vars={"edge_hosts": "nekomorto-fl-db"})
    assert run.rc == 0, run.output[-3000:]
    said = flat(run.output)
    assert "The members folder of /etc/nginx/nekomorto-upstream.d/" in said and "assuming an earlier task creates it" in said
    assert run.recap()["nekomorto-fl-db"]["changed"] > 0
    assert db.run(files).stdout == before
    assert db.run("systemctl is-active nginx").stdout.strip() != "active"
