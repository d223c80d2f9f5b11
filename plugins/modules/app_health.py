#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: app_health
short_description: Check the app's health endpoint against expected status, data source and maintenance mode
version_added: 0.1.0
description:
  - Sends C(GET /api/health) (or another health path) to the app and compares the JSON payload with what the
    operator expects, as the app's own C(npm run api:health:check) does.
  - A C(degraded) answer passes by default, like the app's check; a C(fail) answer (HTTP 503, a critical check
    such as an unreachable database) does not, unless O(accepted_statuses) names V(fail).
  - With O(retries), the request is repeated until every expectation holds, which makes the module the gate
    after a restart (the app needs a few seconds to answer) or after a maintenance toggle.
  - The module only reads; it reports C(changed=false) and runs for real in check mode.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
  - nekomorto.ops.app_http
options:
  path:
    description:
      - Path of the health endpoint, appended to O(base_url).
      - V(/api/health/ready) answers the same payload; V(/api/health/live) never touches the database and has
        no C(dataSource), so ask it with O(expect_source=null).
    type: str
    default: /api/health
  expect_source:
    description:
      - Expected C(dataSource) of the payload. The DB-only app always answers V(db).
      - Set to V(null) (or an empty string) to skip this check.
    type: str
    default: db
  expect_maintenance:
    description:
      - Expected C(maintenanceMode). V(true) after opening a maintenance window, V(false) after closing it.
      - Unset (V(null)) skips this check.
    type: bool
  accepted_statuses:
    description:
      - Values of the payload's C(status) that pass.
      - The default matches the app's C(api:health:check), where C(degraded) (maintenance on, uploads folder
        missing) passes. Use V([ok]) to require a fully healthy app.
    type: list
    elements: str
    choices: [ok, degraded, fail]
    default: [ok, degraded]
  token:
    description:
      - "The app's C(OPERATIONAL_HEALTH_TOKEN), sent as C(Authorization: Bearer <token>)."
      - It unlocks the detailed payload (check messages, build details) for callers that are not on the loopback
        interface. Never logged nor returned.
    type: str
  retries:
    description:
      - How many more times to ask when the answer does not meet the expectations (a connection error, a 503,
        a mismatch). V(0) asks once.
    type: int
    default: 0
  delay:
    description:
      - Seconds to wait between two attempts.
    type: float
    default: 2
  max_wait:
    description:
      - Seconds the attempts may take in all, from the first request; V(0) sets no bound beyond O(retries).
      - Each request waits at most what is left of it (and at most O(timeout)); no attempt starts after it. The
        health gate of a deploy uses it, so that a release that accepts connections and never answers fails
        the gate in that time, not after O(retries) times O(timeout).
    type: float
    default: 0
seealso:
  - module: nekomorto.ops.app_smoke
    description: Check many public endpoints at once.
"""

EXAMPLES = r"""
- name: Wait until the new release answers healthy on the app host
  nekomorto.ops.app_health:
    base_url: "http://127.0.0.1:8080"
    expect_maintenance: false
    retries: 30
    delay: 2
  check_mode: false

- name: Check from the controller that the maintenance window is open
  nekomorto.ops.app_health:
    base_url: "https://nekomata.moe"
    expect_maintenance: true
    token: "{{ vault_operational_health_token }}"
  delegate_to: localhost

- name: Require a fully healthy app (degraded fails)
  nekomorto.ops.app_health:
    base_url: "http://127.0.0.1:8080"
    path: /api/health/ready
    accepted_statuses: [ok]
  register: app_health_result

- name: Show the state of each check
  ansible.builtin.debug:
    msg: "{{ app_health_result.payload.checks | map(attribute='status') | list }}"
"""

RETURN = r"""
url:
  description: The URL that answered last (where a redirect led; the requested one when nothing answered).
  returned: always
  type: str
  sample: http://127.0.0.1:8080/api/health
http_status:
  description: HTTP status of the last answer; V(null) when no answer came (connection refused, timeout).
  returned: always
  type: int
  sample: 200
status:
  description: C(status) of the last payload (V(ok), V(degraded) or V(fail)); V(null) without a JSON payload.
  returned: always
  type: str
  sample: degraded
data_source:
  description: C(dataSource) of the last payload; V(null) without a JSON payload.
  returned: always
  type: str
  sample: db
maintenance_mode:
  description: C(maintenanceMode) of the last payload; V(null) without a JSON payload.
  returned: always
  type: bool
  sample: true
payload:
  description:
    - The last JSON payload as the app sent it; V(null) when the answer was not a JSON object.
    - Loopback callers and token holders get check messages and build details; others get a reduced payload.
  returned: always
  type: dict
  sample:
    ok: true
    status: degraded
    ts: "2026-05-19T10:12:03.512Z"
    dataSource: db
    maintenanceMode: true
    checks:
      - {name: database, status: ok, latencyMs: 3, message: "Database reachable", meta: {}}
      - {name: maintenance, status: warning, latencyMs: 0, message: "Maintenance mode is on", meta: {}}
    summary: {total: 2, ok: 1, warning: 1, critical: 0}
    build: {apiVersion: v1, commitSha: 3f2a9c1, builtAt: "2026-05-19T09:58:40.000Z"}
attempts:
  description: How many requests were sent.
  returned: always
  type: int
  sample: 3
elapsed_ms:
  description: Milliseconds from the first request to the end, waits between attempts included.
  returned: always
  type: int
  sample: 4210
latency_ms:
  description: Milliseconds the last request took.
  returned: always
  type: int
  sample: 12
problems:
  description: What differed from the expectations in the last answer; empty on success.
  returned: always
  type: list
  elements: str
  sample: ["maintenanceMode is true, expected false"]
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nekomorto.ops.plugins.module_utils._health import (
    HealthExpectations,
    HealthReading,
    read_health,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    HttpClient,
    http_argument_spec,
    protect_headers,
    join_url,
)


def _argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = http_argument_spec()
    spec.update(
        path={"type": "str", "default": "/api/health"},
        expect_source={"type": "str", "default": "db"},
        expect_maintenance={"type": "bool"},
        accepted_statuses={
            "type": "list",
            "elements": "str",
            "choices": ["ok", "degraded", "fail"],
            "default": ["ok", "degraded"],
        },
        token={"type": "str", "no_log": True},
        retries={"type": "int", "default": 0},
        delay={"type": "float", "default": 2.0},
        max_wait={"type": "float", "default": 0.0},
    )
    return spec


def _empty_result(params: dict[str, t.Any]) -> dict[str, t.Any]:
    """The result keys before any request was sent."""
    return {
        "changed": False,
        "url": join_url(params["base_url"], params["path"]),
        "http_status": None,
        "status": None,
        "data_source": None,
        "maintenance_mode": None,
        "payload": None,
        "attempts": 0,
        "elapsed_ms": 0,
        "latency_ms": 0,
        "problems": [],
    }


class HealthProbe:
    """Ask the health endpoint until the expectations hold or the attempts run out."""

    def __init__(self, params: dict[str, t.Any], client: HttpClient, sleep: t.Callable[[float], None] = time.sleep) -> None:
        self.url = join_url(params["base_url"], params["path"])
        self.client = client
        self.sleep = sleep
        self.attempts_allowed = max(params["retries"], 0) + 1
        self.delay = max(params["delay"], 0.0)
        self.max_wait = max(params["max_wait"], 0.0)
        self.headers = {"Authorization": f"Bearer {params['token']}"} if params["token"] else {}
        self.expectations = HealthExpectations(
            accepted_statuses=list(params["accepted_statuses"]),
            expect_source=params["expect_source"] or None,
            expect_maintenance=params["expect_maintenance"],
        )

    def run(self) -> dict[str, t.Any]:
        started = time.monotonic()
        reading = HealthReading()
        latency_ms = 0
        attempts = 0
        deadline = started + self.max_wait if self.max_wait > 0 else None
        url = self.url
        while attempts < self.attempts_allowed:
            if attempts:
                if deadline is not None and time.monotonic() + self.delay >= deadline:
                    reading.problems.append(f"no healthy answer within max_wait {self.max_wait:g} s")
                    break
                self.sleep(self.delay)
            attempts += 1
            timeout = None if deadline is None else max(min(self.client.timeout, deadline - time.monotonic()), 0.1)
            answer = self.client.request("GET", self.url, headers=self.headers, timeout=timeout)
            latency_ms = answer.latency_ms
            url = answer.url
            reading = read_health(answer, self.expectations)
            if not reading.problems:
                break
        return {
            "changed": False,
            "url": url,
            "http_status": reading.http_status,
            "status": reading.status,
            "data_source": reading.data_source,
            "maintenance_mode": reading.maintenance_mode,
            "payload": reading.payload,
            "attempts": attempts,
            "elapsed_ms": int(round((time.monotonic() - started) * 1000)),
            "latency_ms": latency_ms,
            "problems": reading.problems,
        }


def main() -> None:
    module = AnsibleModule(argument_spec=_argument_spec(), supports_check_mode=True)
    protect_headers(module)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR, **_empty_result(module.params))
    if module.params["retries"] < 0 or module.params["delay"] < 0 or module.params["max_wait"] < 0 or module.params["timeout"] <= 0:
        module.fail_json(msg="retries, delay and max_wait must be 0 or more, and timeout more than 0", **_empty_result(module.params))

    client = HttpClient(module.params["timeout"], module.params["validate_certs"], module.params["headers"])
    try:
        result = HealthProbe(module.params, client).run()
    finally:
        client.close()
    if result["problems"]:
        attempts = result["attempts"]
        module.fail_json(
            msg=f"health check of {result['url']} failed after {attempts} attempt{'s' if attempts != 1 else ''}: "
            + "; ".join(result["problems"]),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
