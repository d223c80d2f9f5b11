# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Write and read env files that systemd, dotenv and ``node --env-file`` read identically.

The three parsers agree on a small common subset only, established by the round-trip tests:

* ``KEY=value`` unquoted, when the value has no ``#`` (dotenv and node cut it as a comment,
  systemd keeps it), no ``\\`` (systemd drops it), no surrounding whitespace and does not start
  with a quote or a backtick;
* ``KEY='value'``: the value is literal for all three when it has no ``'``;
* ``KEY="value"``: literal for all three when it has no ``"`` and no ``\\`` (systemd unescapes
  ``\\"``, dotenv and node expand ``\\n``, neither unescapes ``\\"``).

A value holding both a ``'`` and a ``\\`` (or a ``'`` and a ``"`` that cannot go unquoted) has no
spelling all three read back the same, and neither has a value with a line break, a carriage
return (node drops every CR of the file) or a NUL: such values are refused.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Left unquoted: readable, and the same for every parser and for a POSIX shell.
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_@%+=:,./-]*$")

# The order of the runbook's "Preparacao de ambiente" section; every other name follows, sorted.
RUNBOOK_ORDER = (
    "NODE_ENV",
    "DATABASE_URL",
    "SESSION_SECRET",
    "APP_ORIGIN",
    "SESSION_TABLE",
    "ADMIN_ORIGINS",
    "MAINTENANCE_MODE",
)

HEADER = (
    "# Managed by Ansible (nekomorto.ops.app_env): local changes are overwritten on the next run.\n"
    "# Read by systemd (EnvironmentFile=), dotenv and node --env-file: the quoting keeps all three identical.\n"
)

MASK = "********"

_QUOTES = ("'", '"', "`")


def unrepresentable_reason(value: str) -> str | None:
    """Why ``value`` cannot be written so that every parser reads it back unchanged, or None."""
    if "\n" in value or "\r" in value:
        return "contains a line break (LF or CR), which the parsers do not read alike"
    if "\0" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    if quote_value(value) is None:
        return (
            "has no spelling that systemd, dotenv and node all read back unchanged: it holds a single "
            "quote together with a backslash, or a single and a double quote together with a #, a "
            "leading quote or surrounding whitespace"
        )
    return None


def _can_go_bare(value: str) -> bool:
    # Quotes inside an unquoted value are literal for all three parsers, as long as the value does
    # not start with one (that would open a quoted value for dotenv and node).
    if not value or "#" in value or "\\" in value:
        return False
    if value[0] in _QUOTES:
        return False
    first, last = value[0], value[-1]
    return not (first.isspace() or last.isspace() or first == "\ufeff" or last == "\ufeff")


def quote_value(value: str) -> str | None:
    """The spelling of ``value`` after ``KEY=`` in the env file, or None when there is none."""
    if any(char in value for char in "\n\r\0"):
        return None
    if _BARE_VALUE.match(value):
        return value
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value and "\\" not in value:
        return f'"{value}"'
    if _can_go_bare(value):
        return value
    return None


def ordered_names(names: t.Iterable[str]) -> list[str]:
    """The runbook's names first, in its order, then every other name sorted."""
    present = set(names)
    first = [name for name in RUNBOOK_ORDER if name in present]
    return first + sorted(present.difference(RUNBOOK_ORDER))


def render_env(values: t.Mapping[str, str], display: t.Mapping[str, str] | None = None) -> str:
    """The env file's text.

    ``display`` replaces the written form of some values (the masked secrets of a diff).
    Raises ValueError when a value cannot be represented (validate first).
    """
    display = display or {}
    lines = [HEADER]
    for name in ordered_names(values):
        if name in display:
            lines.append(f"{name}={display[name]}\n")
            continue
        quoted = quote_value(values[name])
        if quoted is None:
            raise ValueError(f"{name}: value cannot be represented in an env file")
        lines.append(f"{name}={quoted}\n")
    return "".join(lines)


@dataclass
class ParsedEnv:
    """What an existing env file holds, best effort, and why some lines are not portable."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _parse_value(raw: str) -> tuple[str, str | None]:
    """The value of one line (after ``=``) and, when the parsers disagree on it, why."""
    if raw == "":
        return raw, None
    if raw[0] == "'":
        if len(raw) >= 2 and raw[-1] == "'" and "'" not in raw[1:-1]:
            return raw[1:-1], None
        return raw, "has a single-quoted value with extra quotes or text after the closing quote"
    if raw[0] == '"':
        inner = raw[1:-1]
        if len(raw) >= 2 and raw[-1] == '"' and '"' not in inner and "\\" not in inner:
            return inner, None
        return raw, "has a double-quoted value with a backslash, extra quotes or text after the closing quote"
    if raw[0] == "`":
        return raw, "has a backtick-quoted value, which systemd reads with the backticks"
    if "#" in raw:
        return raw, "has a # in an unquoted value: dotenv and node cut it there, systemd does not"
    if "\\" in raw:
        return raw, "has a backslash in an unquoted value: systemd drops it, dotenv and node keep it"
    if raw[-1].isspace() or raw[0].isspace():
        return raw.strip(), "has tabs or other whitespace around an unquoted value"
    return raw, None


def parse_env(text: str) -> ParsedEnv:
    """Read an env file written by :func:`render_env`, or by hand in the portable subset.

    Lines outside the subset the three parsers read alike are reported in ``problems`` (naming the
    line and the variable, never the value) and kept best effort in ``values``.
    """
    parsed = ParsedEnv()
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(";"):
            parsed.problems.append(f"line {number} starts with ';', a comment for systemd only")
            continue
        if "=" not in stripped:
            parsed.problems.append(f"line {number} is not a NAME=value assignment")
            continue
        name, raw = stripped.split("=", 1)
        name = name.strip(" ")
        if name.startswith("export "):
            parsed.problems.append(f"line {number} ({name.split()[-1]}) uses 'export', which systemd does not accept")
            continue
        if not NAME_PATTERN.match(name):
            parsed.problems.append(f"line {number} has an invalid variable name")
            continue
        value, problem = _parse_value(raw.strip(" "))
        if problem:
            parsed.problems.append(f"line {number} ({name}) {problem}")
        parsed.values[name] = value
    return parsed
