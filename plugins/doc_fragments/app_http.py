# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules that probe the app over HTTP."""

    DOCUMENTATION = r"""
options:
  base_url:
    description:
      - Where the app answers, scheme, host and port, for example V(http://127.0.0.1:8080) on the app host
        or V(https://nekomata.moe) through the edge proxy.
      - A path prefix is kept, so V(https://example.org/app) probes V(https://example.org/app/api/health).
      - Requests to the loopback (V(127.0.0.1), V(::1), V(localhost)) never go through a proxy of the
        environment (C(http_proxy)); others follow it and C(no_proxy).
    type: str
    required: true
  headers:
    description:
      - Headers added to every request.
      - For example an C(X-Forwarded-For) header with a public address, to be answered as a public client
        is answered. The health token is better given to P(nekomorto.ops.app_health#module)'s own C(token) option.
      - The values of headers whose names contain C(token), C(auth), C(cookie), C(secret), C(password) or
        C(key) are secrets - masked in the output and not sent on when a redirect leads to another host.
    type: dict
    default: {}
  timeout:
    description:
      - Seconds to wait for each request - for the connection, for the answer to start, and for its whole body
        from the moment the request was sent (a body still arriving then is cut, and the request fails).
    type: float
    default: 10
  validate_certs:
    description:
      - Verify the server's TLS certificate for C(https) URLs.
      - Set to V(false) only for a test host with a self-signed certificate.
    type: bool
    default: true
requirements:
  - requests
"""
