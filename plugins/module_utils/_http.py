# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP helpers shared by the app's health and smoke probes."""

from __future__ import annotations

import json
import time
import traceback
import typing as t
from dataclasses import dataclass, field

try:
    import requests
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None


# How much of an unexpected body a message quotes.
_SNIPPET_CHARS = 160


def http_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Options shared by the modules that talk to the app over HTTP."""
    return {
        "base_url": {"type": "str", "required": True},
        "headers": {"type": "dict", "default": {}},
        "timeout": {"type": "float", "default": 10.0},
        "validate_certs": {"type": "bool", "default": True},
    }


def join_url(base_url: str, path: str) -> str:
    """C(base_url) plus C(path); an absolute C(path) URL is used as it is."""
    if path.startswith(("http://", "https://")):
        return path
    if not path:
        return base_url
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}"


def snippet(text: str) -> str:
    """The start of a body, on one line, for messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET_CHARS else f"{flat[:_SNIPPET_CHARS]}..."


@dataclass
class HttpAnswer:
    """One request's outcome: an HTTP answer, or the reason there was none."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    latency_ms: int = 0
    error: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> tuple[t.Any, str | None]:
        """The parsed body and C(None), or C(None) and why it is not JSON."""
        try:
            return json.loads(self.text), None
        except ValueError as exc:
            content_type = self.content_type or "no content type"
            return None, f"body is not JSON ({content_type}; {exc.msg}): {snippet(self.text) or '<empty>'}"


def describe_request_error(exc: Exception, timeout: float) -> str:
    """A short operator-facing reason for a request that got no HTTP answer."""
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error ({_root_cause(exc)}); fix the certificate, or set validate_certs=false for a test certificate"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout:g} s (connect timeout)"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout:g} s (timeout)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"connection failed: {_root_cause(exc)}"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return f"invalid URL: {exc}"
    return f"request failed: {exc}"


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, without the wrapping noise."""
    cause: BaseException = exc
    seen = set()
    while id(cause) not in seen:
        seen.add(id(cause))
        inner = cause.__cause__ or cause.__context__
        if inner is None and cause.args and isinstance(cause.args[0], BaseException):
            inner = cause.args[0]
        if inner is None:
            inner = getattr(cause, "reason", None)
        if not isinstance(inner, BaseException):
            break
        cause = inner
    text = str(cause)
    lowered = text.lower()
    if "connection refused" in lowered:
        return "connection refused (is the app running and listening on that port?)"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "failed to resolve" in lowered:
        return "the host name does not resolve"
    return text.split(": ", 1)[-1] if text.startswith("<") else text


class HttpClient:
    """A requests session with the module's TLS setting, timeout and extra headers."""

    def __init__(self, timeout: float, validate_certs: bool, headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = validate_certs
        self.session.headers.update({str(key): str(value) for key, value in (headers or {}).items()})

    def request(self, method: str, url: str, headers: dict[str, str] | None = None, timeout: float | None = None) -> HttpAnswer:
        """Send one request (waiting at most timeout, by default the client's); never raises for network or HTTP errors."""
        extra = {str(key): str(value) for key, value in (headers or {}).items()}
        wait = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            response = self.session.request(method, url, headers=extra, timeout=wait)
        except requests.exceptions.RequestException as exc:
            return HttpAnswer(url=url, latency_ms=_elapsed_ms(started), error=describe_request_error(exc, wait))
        answer = HttpAnswer(
            url=url,
            status=response.status_code,
            headers={key.lower(): value for key, value in response.headers.items()},
            text=response.text,
            latency_ms=_elapsed_ms(started),
        )
        response.close()
        return answer

    def close(self) -> None:
        self.session.close()


def _elapsed_ms(started: float) -> int:
    return int(round((time.monotonic() - started) * 1000))
