"""A bounded HTTP load client for the zero-downtime tests and benchmarks (loopback only).

A few threads send GET requests in a loop, one TCP connection per request (as a browser's fresh
visit would, and so that a proxy's graceful reload never races a reused idle connection), until told
to stop, or until a request count or a duration runs out. Every answer is recorded: the report
counts the failed requests (no answer, or a status >= 500), the longest time without any successful
answer, and which app versions answered (from /api/version) and when.

    with LoadClient("http://127.0.0.1:38380") as load:
        run_playbook(...)
    assert load.report.failed == 0
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

DEFAULT_PATHS = ("/api/version", "/api/posts", "/")


@dataclass
class Answer:
    started: float
    finished: float
    path: str
    status: int | None
    error: str = ""
    version: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500


@dataclass
class LoadReport:
    """What the clients saw, times in seconds from the start of the load."""

    requests: int
    failed: int
    longest_gap: float
    duration: float
    failures: list[dict] = field(default_factory=list)
    versions: dict[str, dict] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        versions = ", ".join(
            f"{name} {seen['count']}x ({seen['first']:.1f}-{seen['last']:.1f} s)" for name, seen in self.versions.items()
        )
        return (
            f"{self.requests} requests in {self.duration:.1f} s, {self.failed} failed, longest gap without a "
            f"successful answer {self.longest_gap:.2f} s; versions: {versions or 'none'}"
        )

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "failed": self.failed,
            "longest_gap_s": round(self.longest_gap, 3),
            "duration_s": round(self.duration, 1),
            "statuses": self.statuses,
            "versions": self.versions,
            "failures": self.failures,
        }


class LoadClient:
    """Threads that send bounded, paced GET requests to a loopback base URL."""

    def __init__(self, base_url: str, paths: tuple[str, ...] = DEFAULT_PATHS, workers: int = 3,
                 pause: float = 0.02, max_requests: int = 60000, max_seconds: float = 900,
                 timeout: float = 5) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "::1"):
            raise ValueError(f"load goes to loopback only, not {base_url}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.paths = paths
        self.workers = workers
        self.pause = pause
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.timeout = timeout
        self._answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counter = itertools.count()
        self._started = 0.0
        self._stopped = 0.0
        self.report: LoadReport | None = None

    def __enter__(self) -> LoadClient:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self._started = time.monotonic()
        for number in range(self.workers):
            thread = threading.Thread(target=self._work, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> LoadReport:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        self._stopped = time.monotonic()
        self.report = self._report()
        return self.report

    def _work(self, number: int) -> None:
        paths = itertools.cycle(self.paths[number % len(self.paths):] + self.paths[: number % len(self.paths)])
        deadline = self._started + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            if next(self._counter) >= self.max_requests:
                break
            answer = self._request(next(paths))
            with self._lock:
                self._answers.append(answer)
            self._stop.wait(self.pause)

    def _request(self, path: str) -> Answer:
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request("GET", path, headers={"Connection": "close", "Accept": "*/*"})
            response = connection.getresponse()
            body = response.read()
            version = ""
            if path == "/api/version" and response.status == 200:
                try:
                    version = str(json.loads(body).get("version", ""))
                except ValueError:
                    version = "?"
            return Answer(started, time.monotonic(), path, response.status, version=version)
        except (OSError, http.client.HTTPException) as error:
            return Answer(started, time.monotonic(), path, None, error=f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    def _report(self) -> LoadReport:
        answers = sorted(self._answers, key=lambda answer: answer.finished)
        origin = self._started
        successes = [answer.finished for answer in answers if answer.ok]
        marks = [origin, *successes, self._stopped]
        longest_gap = max((later - earlier for earlier, later in zip(marks, marks[1:])), default=0.0)
        failures = [answer for answer in answers if not answer.ok]
        versions: dict[str, dict] = {}
        for answer in answers:
            if answer.version:
                seen = versions.setdefault(answer.version, {"count": 0, "first": answer.finished - origin})
                seen["count"] += 1
                seen["last"] = answer.finished - origin
        statuses: dict[str, int] = {}
        for answer in answers:
            key = str(answer.status) if answer.status is not None else "no answer"
            statuses[key] = statuses.get(key, 0) + 1
        return LoadReport(
            requests=len(answers),
            failed=len(failures),
            longest_gap=longest_gap,
            duration=self._stopped - origin,
            failures=[
                {"at_s": round(answer.started - origin, 2), "path": answer.path, "status": answer.status,
                 "error": answer.error}
                for answer in failures[:20]
            ],
            versions=versions,
            statuses=statuses,
        )
