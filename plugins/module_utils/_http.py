# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP helpers shared by the app's health and smoke probes."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
import time
import traceback
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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

# Header names whose values are secrets: never shown, never sent on to another host by a redirect.
_SECRET_HEADER_NAME = re.compile(r"token|auth|cookie|secret|password|key", re.IGNORECASE)


def http_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Options shared by the modules that talk to the app over HTTP."""
    return {
        "base_url": {"type": "str", "required": True},
        # no_log keeps them out of the host's log of the invocation; protect_headers() unmasks all but the secret ones.
        "headers": {"type": "dict", "default": {}, "no_log": True},
        "timeout": {"type": "float", "default": 10.0},
        "validate_certs": {"type": "bool", "default": True},
    }


def _is_secret_header(name: t.Any) -> bool:
    """Whether a header's name says it holds a secret (a token, a cookie, credentials)."""
    return bool(_SECRET_HEADER_NAME.search(str(name)))


def secret_header_values(headers: dict[str, t.Any] | None) -> list[str]:
    """The values of the headers whose names say they hold a secret."""
    return [str(value) for name, value in (headers or {}).items() if value and _is_secret_header(name)]


def protect_headers(module: t.Any) -> None:
    """Mask only the secret header values in the module's output (C(headers) is no_log, which masks them all)."""
    secret = set(secret_header_values(module.params["headers"]))
    shown = {str(value) for value in module.params["headers"].values() if value}
    module.no_log_values.difference_update(shown - secret)
    module.no_log_values.update(secret)


def is_loopback_url(url: str) -> bool:
    """Whether the URL names this host's loopback (127.0.0.0/8, ::1, localhost)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class _Session(requests.Session if HAS_REQUESTS else object):  # type: ignore[misc]
    """A session that drops the caller's secret headers on a redirect to another host, as requests drops
    C(Authorization): a token given in C(headers) is not sent on to wherever the answer points."""

    def __init__(self) -> None:
        super().__init__()
        self.secret_header_names: set[str] = set()

    def rebuild_auth(self, prepared_request: t.Any, response: t.Any) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in self.secret_header_names:
                prepared_request.headers.pop(name, None)


# Set per request for the loopback: the environment's proxies are for the outside (None keys win over them,
# while the rest of the environment, a CA bundle for instance, still applies).
_NO_PROXY = {"http": None, "https": None}


class HttpClient:
    """A requests session with the module's TLS setting, timeout and extra headers.

    Requests to the loopback go direct: a proxy of the environment (C(http_proxy)) is for the outside.
    Each answer's body arrives within the request's timeout: a body still arriving then is cut. Every
    request has a connection of its own (closed after it), so a cut one is never reused.
    """

    def __init__(self, timeout: float, validate_certs: bool, headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self._headers = {str(key): str(value) for key, value in (headers or {}).items()}
        self.session = _Session()
        self.session.verify = validate_certs
        self.session.headers.update(self._headers)

    def request(self, method: str, url: str, headers: dict[str, str] | None = None, timeout: float | None = None) -> HttpAnswer:
        """Send one request (waiting at most timeout, by default the client's); never raises for network or HTTP errors."""
        extra = {str(key): str(value) for key, value in (headers or {}).items()}
        wait = self.timeout if timeout is None else timeout
        started = time.monotonic()
        self.session.secret_header_names = {name for name in {**self._headers, **extra} if _is_secret_header(name)}
        try:
            response = self.session.request(method, url, headers=extra, timeout=wait, stream=True,
                                            proxies=_NO_PROXY if is_loopback_url(url) else None)
        except requests.exceptions.RequestException as exc:
            return HttpAnswer(url=url, latency_ms=_elapsed_ms(started), error=describe_request_error(exc, wait))
        try:
            body, cut = _read_body(response, started + wait)
        except requests.exceptions.RequestException as exc:
            return HttpAnswer(url=url, status=response.status_code, latency_ms=_elapsed_ms(started),
                              error=describe_request_error(exc, wait))
        finally:
            response.close()
            # No connection is kept for the next request: the deadline may shut this one down at any time.
            self.session.close()
        if cut:
            return HttpAnswer(url=url, status=response.status_code, latency_ms=_elapsed_ms(started),
                              error=f"no complete answer within {wait:g} s (its body was still arriving)")
        return HttpAnswer(
            url=response.url or url,
            status=response.status_code,
            headers={key.lower(): value for key, value in response.headers.items()},
            text=_decode(body, response.encoding),
            latency_ms=_elapsed_ms(started),
        )

    def close(self) -> None:
        self.session.close()


def _read_body(response: t.Any, deadline: float) -> tuple[bytes, bool]:
    """The body, and whether the deadline cut it. Each read waits at most the request's timeout, but a
    body that trickles in would go on for ever: at the deadline the connection is shut down, which also
    wakes a read that waits."""
    cut = threading.Event()
    done = threading.Lock()
    # Taken before reading: once the body is read, the connection may be handed back.
    sock = getattr(getattr(response.raw, "_connection", None), "sock", None)

    def shut() -> None:
        # A body read in full just before the deadline is not cut.
        if not done.acquire(blocking=False):
            return
        cut.set()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), shut)
    timer.daemon = True
    timer.start()
    body = bytearray()
    try:
        for chunk in response.iter_content(chunk_size=65536):
            body += chunk
            if cut.is_set():
                break
    except requests.exceptions.RequestException:
        if not cut.is_set():
            raise
    finally:
        timer.cancel()
        # From here on the timer cuts nothing; when it got there first, it sets cut at once.
        if not done.acquire(blocking=False):
            cut.wait()
    return bytes(body), cut.is_set()


def _decode(body: bytes, encoding: str | None) -> str:
    """As requests' text, without guessing: the charset the answer names, else UTF-8 (JSON's)."""
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _elapsed_ms(started: float) -> int:
    return int(round((time.monotonic() - started) * 1000))
