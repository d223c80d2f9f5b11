#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: app_smoke
short_description: Smoke-test the app's public endpoints with a list of assertions
version_added: 0.1.0
description:
  - Requests each endpoint of a list and checks the HTTP status, the content type, JSON fields and values,
    and body fragments.
  - Every check runs, even after a failure, and the module fails at the end with the list of failed checks
    and the reasons.
  - Without O(checks), the module runs the checks of the app's own C(npm run api:smoke).
  - The app gives loopback callers a detailed health payload; to see the site as the public does, run the
    module from another host, through the edge proxy, or with O(headers) such as C(X-Forwarded-For).
  - The module only reads (unless a check uses a writing method); it reports C(changed=false) and runs for
    real in check mode.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
  - nekomorto.ops.app_http
options:
  checks:
    description:
      - The assertions, run in this order.
      - When omitted, the app's smoke checks are used. C(/api/health/live) answers 200 JSON with C(ok=true),
        C(status=ok) and C(build.apiVersion=v1).
        C(/api/health/ready) and C(/api/health) answer 200 JSON with C(status), C(dataSource=db), C(maintenanceMode),
        C(checks), C(summary) and C(build.apiVersion=v1). The three health answers carry C(Cache-Control) with V(no-store),
        an C(X-Request-Id) and C(X-API-Version) V(v1).
        C(/api/contracts/v1.json) answers 200 JSON with C(version=v1) and C(endpoints).
        C(/sitemap.xml) contains C(<urlset). C(/rss.xml) and C(/projects/rss.xml) contain C(<rss).
        C(/) is HTML containing C(<html). C(/manifest.webmanifest) is JSON with C(name).
        C(/assets/__smoke_missing__.js) answers 404.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the check in the results. Defaults to the method and the path.
        type: str
      method:
        description:
          - HTTP method.
        type: str
        default: GET
      path:
        description:
          - Path appended to O(base_url), or an absolute URL.
        type: str
        required: true
      status:
        description:
          - Expected HTTP status, or a list of accepted statuses.
        type: raw
        default: 200
      content_type:
        description:
          - Text the C(Content-Type) header must contain (case-insensitive), for example V(json) or V(text/html).
        type: str
      json_fields:
        description:
          - Dotted paths that must exist in the JSON body, for example V(build.apiVersion) or V(checks.0.name).
        type: list
        elements: str
        default: []
      json_equals:
        description:
          - Dotted paths of the JSON body, each with the value it must equal, for example C(version) and V(v1).
        type: dict
        default: {}
      body_contains:
        description:
          - Texts the body must contain (case-sensitive).
        type: list
        elements: str
        default: []
      headers:
        description:
          - Headers of this request, added to (and overriding) O(headers).
        type: dict
        default: {}
      response_headers:
        description:
          - Headers the answer must carry, each with a text its value must contain (case-insensitive), for example
            C(Cache-Control) and V(no-store). An empty text only asks for the header.
        type: dict
        default: {}
seealso:
  - module: nekomorto.ops.app_health
    description: Check the health payload with expectations and retries.
"""

EXAMPLES = r"""
- name: Run the app's smoke checks through the edge proxy
  nekomorto.ops.app_smoke:
    base_url: "https://nekomata.moe"
  delegate_to: localhost
  check_mode: false

- name: Run them on the app host, seen as a public client
  nekomorto.ops.app_smoke:
    base_url: "http://127.0.0.1:8080"
    headers:
      X-Forwarded-For: 203.0.113.10

- name: Check that writes are refused during maintenance
  nekomorto.ops.app_smoke:
    base_url: "http://127.0.0.1:8080"
    checks:
      - name: writes refused
        method: POST
        path: /api/posts
        status: 503
        json_equals:
          error: maintenance_mode
      - name: reads served
        path: /api/health
        json_equals:
          maintenanceMode: true
          status: degraded
"""

RETURN = r"""
results:
  description: One entry per check, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the check.
      type: str
      sample: health
    method:
      description: HTTP method used.
      type: str
      sample: GET
    url:
      description: URL requested.
      type: str
      sample: http://127.0.0.1:8080/api/health
    http_status:
      description: HTTP status of the answer; V(null) when no answer came.
      type: int
      sample: 200
    ok:
      description: Whether every assertion of the check held.
      type: bool
      sample: true
    latency_ms:
      description: Milliseconds the request took.
      type: int
      sample: 8
    problems:
      description: What failed; empty when the check passed.
      type: list
      elements: str
      sample: ["HTTP 503, expected 200"]
  sample:
    - {name: health live, method: GET, url: "http://127.0.0.1:8080/api/health/live", http_status: 200, ok: true,
       latency_ms: 3, problems: []}
    - {name: sitemap, method: GET, url: "http://127.0.0.1:8080/sitemap.xml", http_status: 500, ok: false,
       latency_ms: 41, problems: ["HTTP 500, expected 200", "body does not contain \"<urlset\""]}
passed:
  description: Number of checks that passed.
  returned: always
  type: int
  sample: 10
failed_count:
  description:
    - Number of checks that failed.
    - Named so because Ansible reads a result's C(failed) key as the task's own failure flag.
  returned: always
  type: int
  sample: 0
elapsed_ms:
  description: Milliseconds all checks took together.
  returned: always
  type: int
  sample: 187
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nekomorto.ops.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    HttpClient,
    http_argument_spec,
    protect_headers,
    join_url,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._smoke import (
    SmokeCheck,
    SmokeCheckError,
    build_check,
    default_checks,
    judge,
)


def _argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = http_argument_spec()
    spec["checks"] = {
        "type": "list",
        "elements": "dict",
        "options": {
            "name": {"type": "str"},
            "method": {"type": "str", "default": "GET"},
            "path": {"type": "str", "required": True},
            "status": {"type": "raw", "default": 200},
            "content_type": {"type": "str"},
            "json_fields": {"type": "list", "elements": "str", "default": []},
            "json_equals": {"type": "dict", "default": {}},
            "body_contains": {"type": "list", "elements": "str", "default": []},
            "headers": {"type": "dict", "default": {}},
            "response_headers": {"type": "dict", "default": {}},
        },
    }
    return spec


class SmokeRun:
    """Run every check against the app and collect the results."""

    def __init__(self, base_url: str, checks: list[SmokeCheck], client: HttpClient) -> None:
        self.base_url = base_url
        self.checks = checks
        self.client = client

    def run(self) -> dict[str, t.Any]:
        started = time.monotonic()
        results = [self._run_one(check) for check in self.checks]
        passed = sum(1 for result in results if result["ok"])
        return {
            "changed": False,
            "results": results,
            "passed": passed,
            "failed_count": len(results) - passed,
            "elapsed_ms": int(round((time.monotonic() - started) * 1000)),
        }

    def _run_one(self, check: SmokeCheck) -> dict[str, t.Any]:
        url = join_url(self.base_url, check.path)
        answer = self.client.request(check.method, url, headers=check.headers)
        problems = judge(check, answer)
        return {
            "name": check.name,
            "method": check.method,
            "url": url,
            "http_status": answer.status,
            "ok": not problems,
            "latency_ms": answer.latency_ms,
            "problems": problems,
        }


def _empty_result() -> dict[str, t.Any]:
    return {"changed": False, "results": [], "passed": 0, "failed_count": 0, "elapsed_ms": 0}


def failure_message(result: dict[str, t.Any]) -> str:
    failures = [f"{item['name']} ({item['url']}): {'; '.join(item['problems'])}" for item in result["results"] if not item["ok"]]
    total = len(result["results"])
    return f"{result['failed_count']} of {total} smoke checks failed: " + " | ".join(failures)


def main() -> None:
    module = AnsibleModule(argument_spec=_argument_spec(), supports_check_mode=True)
    protect_headers(module)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR, **_empty_result())
    if module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be more than 0 seconds", **_empty_result())
    if module.params["checks"] == []:
        module.fail_json(msg="checks is an empty list: omit it to run the app's smoke checks", **_empty_result())
    try:
        checks = default_checks() if module.params["checks"] is None else [build_check(raw) for raw in module.params["checks"]]
    except SmokeCheckError as exc:
        module.fail_json(msg=str(exc), **_empty_result())

    client = HttpClient(module.params["timeout"], module.params["validate_certs"], module.params["headers"])
    try:
        result = SmokeRun(module.params["base_url"], checks, client).run()
    finally:
        client.close()
    if result["failed_count"]:
        module.fail_json(msg=failure_message(result), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
