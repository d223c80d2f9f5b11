"""After the converge: the edge sends requests to every app host, app1 and app3 run their unit, app2 its blue
instance."""

from __future__ import annotations

import testbed
from conftest import (
    APP1_PORT,
    APP2_PORTS,
    APP3_PORT,
    APP_ROOT,
    EDGE_URL,
    MEMBERS_DIR,
    member,
    migration_rows,
    unit_state,
    upstreams_logged,
    version_at,
)


def test_the_edge_serves_every_app_host(edge):
    answers = [testbed.http(f"{EDGE_URL}/api/version") for _attempt in range(12)]
    assert {answer.status for answer in answers} == {200}
    assert {answer.json()["version"] for answer in answers} == {"v1"}
    assert upstreams_logged(edge, 12) == {f"127.0.0.1:{APP1_PORT}", f"127.0.0.1:{APP2_PORTS['blue']}",
                                          f"127.0.0.1:{APP3_PORT}"}


def test_the_edge_configuration(edge):
    assert edge.service("nginx").is_running and edge.service("nginx").is_enabled
    assert not edge.file("/etc/nginx/sites-enabled/default").exists
    listening = edge.run("ss -Hltnp | grep nginx").stdout
    assert "127.0.0.1:38380" in listening and ":80 " not in listening
    site = edge.file("/etc/nginx/conf.d/nekomorto.conf").content_string
    assert f"include {MEMBERS_DIR}/*.conf;" in site
    assert "proxy_next_upstream error timeout;" in site and "http_5" not in site
    assert "# rotation: in\nserver 127.0.0.1:38381 fail_timeout=5s max_fails=2;" in member(edge, "nekomorto-fl-app1")
    assert "server 127.0.0.1:38383 " in member(edge, "nekomorto-fl-app2")
    assert "# rotation: in\nserver 127.0.0.1:38385 " in member(edge, "nekomorto-fl-app3")


def test_app1_and_app3_run_their_unit(app1, app3):
    for host, port in ((app1, APP1_PORT), (app3, APP3_PORT)):
        assert unit_state(host, "nekomorto")["ActiveState"] == "active"
        assert not host.file(f"{APP_ROOT}/instances").exists
        assert version_at(port) == "v1"


def test_app2_runs_its_blue_instance(app2):
    assert app2.file(f"{APP_ROOT}/instances/active").content_string.strip() == "blue"
    assert unit_state(app2, "nekomorto@blue")["ActiveState"] == "active"
    assert unit_state(app2, "nekomorto@green")["ActiveState"] == "inactive"
    assert unit_state(app2, "nekomorto")["ActiveState"] == "inactive"
    assert app2.file(f"{APP_ROOT}/instances/blue").linked_to == app2.file(f"{APP_ROOT}/current").linked_to
    assert app2.file(f"{APP_ROOT}/instances/green.env").content_string == f"PORT={APP2_PORTS['green']}\n"
    assert app2.service("nekomorto@blue").is_enabled
    assert version_at(APP2_PORTS["blue"]) == "v1"
    assert not app2.socket(f"tcp://0.0.0.0:{APP2_PORTS['green']}").is_listening


def test_v1_migrations_applied_once(db):
    rows = migration_rows(db)
    assert len(rows) == 3 and {count for _name, count in rows} == {"1"}
