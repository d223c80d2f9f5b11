# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rendering and reading of the env file, in Python (the real readers are in test_envfile_readers.py)."""

from __future__ import annotations

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._envfile import (
    HEADER,
    ordered_names,
    parse_env,
    quote_value,
    render_env,
    unrepresentable_reason,
)
from ansible_collections.nekomorto.ops.tests.unit.plugins.module_utils.envfile_cases import (
    TRICKY_VALUES,
    UNREPRESENTABLE_VALUES,
)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("production", "production"),
        ("", ""),
        ("https://a.example,https://b.example", "https://a.example,https://b.example"),
        ("postgresql://u:p%40@h:5432/db", "postgresql://u:p%40@h:5432/db"),
        ("a b", "'a b'"),
        ("a#b", "'a#b'"),
        ("$HOME", "'$HOME'"),
        ('say "hi"', "'say \"hi\"'"),
        ("C:\\x", "'C:\\x'"),
        ("ação", "'ação'"),
        ("it's", '"it\'s"'),
        (" it's #1 ", '" it\'s #1 "'),
        ("it's a \"test\"", "it's a \"test\""),
    ],
)
def test_quote_value_spelling(value: str, written: str) -> None:
    assert quote_value(value) == written


@pytest.mark.parametrize("name", sorted(UNREPRESENTABLE_VALUES))
def test_unrepresentable_values_are_refused(name: str) -> None:
    value = UNREPRESENTABLE_VALUES[name]
    assert quote_value(value) is None
    reason = unrepresentable_reason(value)
    assert reason
    assert value not in reason


@pytest.mark.parametrize("name", sorted(TRICKY_VALUES))
def test_tricky_values_are_representable(name: str) -> None:
    assert unrepresentable_reason(TRICKY_VALUES[name]) is None


def test_lone_surrogate_is_refused() -> None:
    assert unrepresentable_reason("\udcff") == "is not valid UTF-8 text"


def test_render_then_parse_is_identity() -> None:
    text = render_env(TRICKY_VALUES)
    parsed = parse_env(text)
    assert parsed.problems == []
    assert parsed.values == TRICKY_VALUES


def test_render_order_is_runbook_then_sorted() -> None:
    values = {"ZED": "1", "MAINTENANCE_MODE": "false", "ALPHA": "1", "APP_ORIGIN": "https://a.example",
              "NODE_ENV": "production", "DATABASE_URL": "postgresql://u@h/db", "SESSION_SECRET": "s"}
    assert ordered_names(values) == [
        "NODE_ENV", "DATABASE_URL", "SESSION_SECRET", "APP_ORIGIN", "MAINTENANCE_MODE", "ALPHA", "ZED",
    ]
    lines = render_env(values).removeprefix(HEADER).splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ordered_names(values)


def test_render_starts_with_the_managed_header_and_ends_with_a_newline() -> None:
    text = render_env({"A": "1"})
    assert text.startswith("# Managed by Ansible")
    assert text.endswith("A=1\n")


def test_render_masks_with_display() -> None:
    text = render_env({"SESSION_SECRET": "hunter2-hunter2", "A": "1"}, display={"SESSION_SECRET": "********"})
    assert "hunter2" not in text
    assert "SESSION_SECRET=********\n" in text


def test_render_refuses_unrepresentable_values() -> None:
    with pytest.raises(ValueError, match="^BAD:"):
        render_env({"BAD": "a\nb"})


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("A=plain", "plain"),
        ("A = spaced ", "spaced"),
        ("A=", ""),
        ("A=''", ""),
        ("A='x # y'", "x # y"),
        ('A="it\'s"', "it's"),
        ("  A=1", "1"),
    ],
)
def test_parse_reads_the_portable_forms(line: str, value: str) -> None:
    parsed = parse_env(f"# comment\n\n{line}\n")
    assert parsed.problems == []
    assert parsed.values == {"A": value}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("A=x # comment", "has a # in an unquoted value"),
        ("A=C:\\x", "has a backslash in an unquoted value"),
        ("A='it's'", "single-quoted value with extra quotes"),
        ('A="a\\"b"', "double-quoted value with a backslash"),
        ("A=`x`", "backtick-quoted"),
        ("export A=1", "uses 'export'"),
        ("; comment", "a comment for systemd only"),
        ("JUST TEXT", "is not a NAME=value assignment"),
        ("1A=x", "invalid variable name"),
        ("A='multi", "single-quoted value"),
    ],
)
def test_parse_reports_lines_the_readers_disagree_on(line: str, problem: str) -> None:
    parsed = parse_env(f"OK=1\n{line}\n")
    assert len(parsed.problems) == 1
    assert parsed.problems[0].startswith("line 2 ")
    assert problem in parsed.problems[0]
    assert parsed.values["OK"] == "1"


def test_parse_problem_never_quotes_the_value() -> None:
    parsed = parse_env("SESSION_SECRET=hunter2#hunter2\n")
    assert parsed.problems
    assert "hunter2" not in parsed.problems[0]
    assert "SESSION_SECRET" in parsed.problems[0]


def test_parse_last_assignment_wins_like_every_reader() -> None:
    assert parse_env("A=1\nA=2\n").values == {"A": "2"}
