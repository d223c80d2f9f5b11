# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test helpers of the probe modules: run a module in-process, and a stand-in HTTP app.

The stand-in serves payloads shaped exactly like the app's (APP_CONTRACT.md, "Health endpoints"),
on 127.0.0.1 and a free port, from a thread of the test process.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised instead of exiting when a module calls exit_json or fail_json."""

    def __init__(self, failed: bool, result: dict[str, t.Any]) -> None:
        super().__init__(result.get("msg", ""))
        self.failed = failed
        self.result = result


def _record_module_result(_module: basic.AnsibleModule, result: dict[str, t.Any]) -> t.NoReturn:
    # Called by exit_json and fail_json once no_log values are masked, instead of printing.
    raise ModuleExit(bool(result.get("failed")), result)


def run_module(main: t.Callable[[], None], args: dict[str, t.Any], check_mode: bool = False) -> ModuleExit:
    """Run a module's main() with these arguments; return its outcome as Ansible would receive it."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), mock.patch.object(basic.AnsibleModule, "_record_module_result", _record_module_result):
        try:
            main()
        except ModuleExit as outcome:
            return outcome
    raise AssertionError("the module returned without calling exit_json or fail_json")


# ---------------------------------------------------------------------------------------------
# Payloads of the app's health endpoints, as the contract describes them.

_BUILD = {"apiVersion": "v1", "commitSha": "3f2a9c1d", "builtAt": "2026-05-19T09:58:40.000Z"}


def _check(name: str, status: str, message: str) -> dict[str, t.Any]:
    return {"name": name, "status": status, "latencyMs": 2, "message": message, "meta": {}}


def health_payload(status: str = "ok", maintenance: bool = False, checks: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    """A detailed payload (what loopback callers and token holders get)."""
    if checks is None:
        checks = [_check("database", "ok", "Database reachable"), _check("uploads", "ok", "public/uploads present")]
        if maintenance:
            checks.append(_check("maintenance", "warning", "Maintenance mode is on"))
    summary = {
        "total": len(checks),
        "ok": sum(1 for check in checks if check["status"] == "ok"),
        "warning": sum(1 for check in checks if check["status"] == "warning"),
        "critical": sum(1 for check in checks if check["status"] == "critical"),
    }
    return {
        "ok": status != "fail",
        "status": status,
        "ts": "2026-05-19T10:12:03.512Z",
        "dataSource": "db",
        "maintenanceMode": maintenance,
        "checks": checks,
        "summary": summary,
        "build": dict(_BUILD),
    }


def public_payload(payload: dict[str, t.Any]) -> dict[str, t.Any]:
    """The reduced payload of callers that are neither on the loopback nor token holders."""
    reduced = copy.deepcopy(payload)
    reduced["checks"] = [{key: check[key] for key in ("name", "status", "latencyMs")} for check in payload["checks"]]
    reduced["build"] = {"apiVersion": payload["build"]["apiVersion"]}
    return reduced


HEALTHY = health_payload()
MAINTENANCE = health_payload(status="degraded", maintenance=True)
DATABASE_DOWN = health_payload(
    status="fail",
    checks=[
        _check("database", "critical", "connect ECONNREFUSED 127.0.0.1:5432"),
        _check("uploads", "ok", "public/uploads present"),
    ],
)
LIVE = {"ok": True, "status": "ok", "ts": "2026-05-19T10:12:03.512Z", "build": dict(_BUILD)}


# ---------------------------------------------------------------------------------------------
# The stand-in HTTP app.

@dataclass
class Reply:
    """What one route answers."""

    status: int = 200
    body: str | bytes = ""
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0
    headers: dict[str, str | None] = field(default_factory=dict)
    # Seconds between the body's bytes (0: all at once).
    trickle: float = 0.0


def json_reply(payload: t.Any, status: int = 200, **kwargs: t.Any) -> Reply:
    return Reply(status=status, body=json.dumps(payload), **kwargs)


Route = t.Union[Reply, t.Callable[["RecordedRequest"], Reply]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


class StandInApp:
    """A small threaded HTTP server; routes map C(METHOD /path) or C(/path) to replies."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandInApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path == path)

    def reply_for(self, request: RecordedRequest) -> Reply:
        route = self.routes.get(f"{request.method} {request.path}", self.routes.get(request.path))
        if route is None:
            return Reply(status=404, body="Not Found", content_type="text/html; charset=utf-8")
        return route(request) if callable(route) else route

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                request = RecordedRequest(self.command, self.path.split("?", 1)[0], {k.lower(): v for k, v in self.headers.items()})
                app.requests.append(request)
                reply = app.reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    # The app's headers on every answer; a reply's own replace them (None leaves one out).
                    headers = {"Cache-Control": "no-store", "X-Request-Id": f"req-{len(app.requests)}",
                               "X-API-Version": "v1", **reply.headers}
                    for name, value in headers.items():
                        if value is not None:
                            self.send_header(name, value)
                    self.end_headers()
                    if not reply.trickle:
                        self.wfile.write(body)
                    for index in range(len(body) if reply.trickle else 0):
                        self.wfile.write(body[index:index + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
                return

        return Handler


def healthy_after(failures: int, good: Reply, bad: Reply) -> t.Callable[[RecordedRequest], Reply]:
    """A route that answers C(bad) the first C(failures) times, then C(good)."""
    calls = {"count": 0}
    lock = threading.Lock()

    def route(_request: RecordedRequest) -> Reply:
        with lock:
            calls["count"] += 1
            count = calls["count"]
        return bad if count <= failures else good

    return route
