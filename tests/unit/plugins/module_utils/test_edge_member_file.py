# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The edge member file: rendering, reading back, and the rotation decisions."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._edge_member import (
    Member,
    MemberError,
    desired,
    parse,
    render,
)

PARAMETERS = {"max_fails": "2", "fail_timeout": "10s"}


def _member(**changes: t.Any) -> Member:
    values = {"name": "app1", "address": "10.0.0.11", "port": 8080, "parameters": PARAMETERS, **changes}
    return Member(**values)


def _desired(current: Member | None, **options: t.Any) -> tuple[Member, bool]:
    values = {"name": "app1", "address": None, "port": None, "keep_port": False, "rotation": "keep",
              "reason": "operator", "unless_out_for": [], "parameters": None, **options}
    return desired(current, **values)


@pytest.mark.parametrize(
    ("member", "server_line"),
    [
        (_member(), "server 10.0.0.11:8080 fail_timeout=10s max_fails=2;"),
        (_member(rotation="out", reason="deploy"), "server 10.0.0.11:8080 fail_timeout=10s max_fails=2 down;"),
        (_member(address="::1", parameters={}), "server [::1]:8080;"),
        (_member(address="[fd00::5]", port=9000, parameters={}), "server [fd00::5]:9000;"),
    ],
)
def test_render_then_parse_round_trips(member: Member, server_line: str) -> None:
    text = render(member)
    assert server_line in text.splitlines()
    again = parse(text)
    assert again.endpoint == member.endpoint
    assert (again.name, again.port, again.rotation, again.reason, again.parameters) == (
        member.name, member.port, member.rotation, member.reason, member.parameters)
    assert render(again) == text


def test_parse_trusts_the_server_line_over_the_comments() -> None:
    text = "# member: app1\n# rotation: in\nserver 10.0.0.11:8080 down;\n"
    member = parse(text)
    assert member.rotation == "out" and member.reason == "operator"
    assert parse("server app1.internal:8080;\n", fallback_name="app1").name == "app1"


@pytest.mark.parametrize(
    "text",
    ["", "# member: app1\n", "server 10.0.0.11;\n", "upstream x { server 10.0.0.11:8080; }\n"],
)
def test_parse_refuses_what_is_not_a_member_file(text: str) -> None:
    with pytest.raises(MemberError):
        parse(text)


@pytest.mark.parametrize(
    "changes",
    [{"name": "app 1"}, {"address": ""}, {"address": "10.0.0.1;"}, {"port": 0}, {"port": 70000},
     {"rotation": "maybe"}, {"parameters": {"down": "1"}}, {"parameters": {"max_fails": "2;"}},
     # server [10.0.0.1:9000]:8080; fails nginx -t; a reason with ")" or a line break is not read back.
     {"address": "10.0.0.1:9000"}, {"address": "app1:9000"}],
)
def test_member_refuses_values_nginx_would_misread(changes: dict[str, t.Any]) -> None:
    with pytest.raises(MemberError):
        _member(**changes)


def test_an_ipv6_address_and_a_reason_of_several_words_round_trip() -> None:
    member = _member(address="::1", rotation="out", reason="kernel upgrade")
    assert parse(render(member)) == member


@pytest.mark.parametrize("reason", ["maintenance (db)", "a\nserver 1.2.3.4:1;", "x" * 65])
def test_a_reason_that_would_not_read_back_is_refused(reason: str) -> None:
    with pytest.raises(MemberError, match="without a parenthesis or a line break"):
        _desired(_member(), rotation="out", reason=reason)


def test_a_file_written_with_a_parenthesis_in_its_reason_still_reads() -> None:
    # Written before the reason was checked: read as it always was (out, the reason taken as the operator's).
    text = render(_member(rotation="out")).replace("out (operator)", "out (maintenance (db))")
    assert (parse(text).rotation, parse(text).reason) == ("out", "operator")


def test_a_new_member_needs_address_and_port() -> None:
    with pytest.raises(MemberError, match="address and port"):
        _desired(None, address="10.0.0.11")


def test_a_new_member_kept_as_is_starts_out_of_rotation() -> None:
    member, held = _desired(None, address="10.0.0.11", port=8080)
    assert (member.rotation, member.reason, held) == ("out", "new", False)
    assert _desired(None, address="10.0.0.11", port=8080, rotation="in")[0].in_rotation


def test_keep_port_keeps_an_existing_port_only() -> None:
    current = _member(port=8081)
    assert _desired(current, port=8080, keep_port=True)[0].port == 8081
    assert _desired(current, port=8080)[0].port == 8080
    assert _desired(None, address="10.0.0.11", port=8080, keep_port=True)[0].port == 8080


def test_out_then_in_comes_back() -> None:
    out = _desired(_member(), rotation="out", reason="deploy")[0]
    assert (out.rotation, out.reason) == ("out", "deploy")
    back, held = _desired(out, rotation="in", unless_out_for=["operator"])
    assert back.in_rotation and not held


def test_an_operators_decision_outlives_a_deploy() -> None:
    by_operator = _desired(_member(), rotation="out", reason="operator")[0]
    during_deploy = _desired(by_operator, rotation="out", reason="deploy")[0]
    assert during_deploy.reason == "operator"
    after_deploy, held = _desired(during_deploy, rotation="in", unless_out_for=["operator"], port=8081)
    assert (after_deploy.rotation, held, after_deploy.port) == ("out", True, 8081)
    operator_back, held = _desired(after_deploy, rotation="in")
    assert operator_back.in_rotation and not held


def test_an_operator_takes_over_a_deploys_reason() -> None:
    during_deploy = _desired(_member(), rotation="out", reason="deploy")[0]
    taken = _desired(during_deploy, rotation="out", reason="operator")[0]
    assert taken.reason == "operator"


def test_parameters_are_kept_when_not_given() -> None:
    assert _desired(_member(), rotation="in")[0].parameters == PARAMETERS
    assert _desired(_member(), parameters={"max_fails": 3})[0].parameters == {"max_fails": "3"}
