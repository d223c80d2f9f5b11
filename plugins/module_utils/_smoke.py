# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Endpoint assertions of the app's smoke test: what to ask, and how to judge the answer."""

from __future__ import annotations

import copy
import json
import typing as t
from dataclasses import dataclass, field

from ansible_collections.nekomorto.ops.plugins.module_utils._http import HttpAnswer

_HEALTH_FIELDS = ["status", "dataSource", "maintenanceMode", "checks", "summary"]
_HEALTH_VALUES = {"dataSource": "db", "build.apiVersion": "v1"}
# What every health answer carries (the app's contract): never cached, traceable, versioned.
_HEALTH_HEADERS = {"Cache-Control": "no-store", "X-Request-Id": "", "X-API-Version": "v1"}

# The checks of the app's `npm run api:smoke`, in its order.
DEFAULT_CHECKS: list[dict[str, t.Any]] = [
    {
        "name": "health live",
        "path": "/api/health/live",
        "content_type": "json",
        "json_fields": ["ok", "status"],
        "json_equals": {"ok": True, "status": "ok", "build.apiVersion": "v1"},
        "response_headers": _HEALTH_HEADERS,
    },
    {"name": "health ready", "path": "/api/health/ready", "content_type": "json", "json_fields": _HEALTH_FIELDS,
     "json_equals": _HEALTH_VALUES, "response_headers": _HEALTH_HEADERS},
    {"name": "health", "path": "/api/health", "content_type": "json", "json_fields": _HEALTH_FIELDS,
     "json_equals": _HEALTH_VALUES, "response_headers": _HEALTH_HEADERS},
    {
        "name": "API contract v1",
        "path": "/api/contracts/v1.json",
        "content_type": "json",
        "json_fields": ["endpoints"],
        "json_equals": {"version": "v1"},
    },
    {"name": "sitemap", "path": "/sitemap.xml", "body_contains": ["<urlset"]},
    {"name": "RSS feed", "path": "/rss.xml", "body_contains": ["<rss"]},
    {"name": "projects RSS feed", "path": "/projects/rss.xml", "body_contains": ["<rss"]},
    {"name": "home page", "path": "/", "content_type": "text/html", "body_contains": ["<html"]},
    {"name": "web manifest", "path": "/manifest.webmanifest", "content_type": "json", "json_fields": ["name"]},
    {"name": "missing asset is a 404", "path": "/assets/__smoke_missing__.js", "status": 404},
]


class SmokeCheckError(ValueError):
    """A check definition that cannot be used."""


@dataclass
class SmokeCheck:
    """One endpoint assertion."""

    name: str
    path: str
    method: str = "GET"
    status: list[int] = field(default_factory=lambda: [200])
    content_type: str | None = None
    json_fields: list[str] = field(default_factory=list)
    json_equals: dict[str, t.Any] = field(default_factory=dict)
    body_contains: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)


def _statuses(value: t.Any, name: str) -> list[int]:
    values = value if isinstance(value, list) else [value]
    statuses = []
    for item in values:
        try:
            status = int(item)
        except (TypeError, ValueError):
            raise SmokeCheckError(f"check {name!r}: status must be an HTTP status or a list of them, got {item!r}") from None
        if not 100 <= status <= 599:
            raise SmokeCheckError(f"check {name!r}: {status} is not an HTTP status")
        statuses.append(status)
    if not statuses:
        raise SmokeCheckError(f"check {name!r}: status is an empty list")
    return statuses


def build_check(raw: dict[str, t.Any]) -> SmokeCheck:
    """A L(SmokeCheck) from a module's C(checks) element (unset keys may be missing or C(None))."""
    path = raw.get("path")
    if not path:
        raise SmokeCheckError(f"every check needs a path: {raw!r}")
    method = (raw.get("method") or "GET").upper()
    name = raw.get("name") or f"{method} {path}"
    return SmokeCheck(
        name=name,
        path=path,
        method=method,
        status=_statuses(raw["status"] if raw.get("status") is not None else 200, name),
        content_type=raw.get("content_type") or None,
        json_fields=list(raw.get("json_fields") or []),
        json_equals=dict(raw.get("json_equals") or {}),
        body_contains=list(raw.get("body_contains") or []),
        headers=dict(raw.get("headers") or {}),
        response_headers={str(key): "" if value is None else str(value) for key, value in (raw.get("response_headers") or {}).items()},
    )


def default_checks() -> list[SmokeCheck]:
    return [build_check(copy.deepcopy(raw)) for raw in DEFAULT_CHECKS]


_MISSING = object()


def lookup(data: t.Any, dotted_path: str) -> t.Any:
    """The value at C(a.b.0.c) in parsed JSON, or L(_MISSING); digits index lists."""
    current = data
    for part in dotted_path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def has_path(data: t.Any, dotted_path: str) -> bool:
    return lookup(data, dotted_path) is not _MISSING


def judge(check: SmokeCheck, answer: HttpAnswer) -> list[str]:
    """Everything about an answer that breaks the check; empty when it passes."""
    if answer.error is not None:
        return [answer.error]
    problems = []
    if answer.status not in check.status:
        expected = " or ".join(str(status) for status in check.status)
        problems.append(f"HTTP {answer.status}, expected {expected}")
    if check.content_type and check.content_type.lower() not in answer.content_type.lower():
        problems.append(
            f"content type {json.dumps(answer.content_type or None)} does not contain {json.dumps(check.content_type)}"
        )
    for name, needle in check.response_headers.items():
        value = answer.headers.get(name.lower())
        if value is None:
            problems.append(f"no {name} header")
        elif needle.lower() not in value.lower():
            problems.append(f"{name} is {json.dumps(value)}, expected it to contain {json.dumps(needle)}")
    for needle in check.body_contains:
        if needle not in answer.text:
            problems.append(f"body does not contain {json.dumps(needle)}")
    if check.json_fields or check.json_equals:
        problems.extend(_judge_json(check, answer))
    return problems


def _same_json(actual: t.Any, expected: t.Any) -> bool:
    """JSON equality, where V(true) is not V(1)."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(_same_json(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_same_json(actual[key], expected[key]) for key in actual)
    return actual == expected


def _judge_json(check: SmokeCheck, answer: HttpAnswer) -> list[str]:
    payload, json_error = answer.json()
    if json_error is not None:
        return [json_error]
    problems = []
    missing = [path for path in check.json_fields if not has_path(payload, path)]
    if missing:
        problems.append(f"JSON lacks {', '.join(missing)}")
    for path, expected in check.json_equals.items():
        actual = lookup(payload, path)
        if actual is _MISSING:
            problems.append(f"JSON lacks {path} (expected {json.dumps(expected)})")
        elif not _same_json(actual, expected):
            problems.append(f"{path} is {json.dumps(actual)}, expected {json.dumps(expected)}")
    return problems
