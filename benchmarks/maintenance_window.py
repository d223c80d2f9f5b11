"""Measures how long a maintenance window refuses writes, printing numbers, asserting nothing.

Runs playbooks/maintenance.yml for a window that runs one dry-run (uploads_reorganize by default)
against the maintenance molecule scenario (after `molecule converge -s maintenance`), while a
bounded client on 127.0.0.1 sends one write probe (a POST under /api that no route serves: 503
while maintenance is on, 404 otherwise) every --interval seconds to the first app host. Prints:

- writes refused: first 503 to last 503 as the client saw them;
- the app's boot time in the same run, for each restart of the window: from systemd starting the
  process (ExecMainStartTimestampMonotonic, read once a second, on the same monotonic clock as the
  client: containers share the kernel) to the first answer the client got from it; and the gaps
  without any answer around each restart;
- the window's wall time as the operator sees it (the whole ansible-playbook run).

Usage: .venv/bin/python benchmarks/maintenance_window.py [--task uploads_reorganize] [--rounds 1]
"""

from __future__ import annotations

import argparse
import glob
import os
import pathlib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
APP_HOST = "nekomorto-mt-app1"
URL = "http://127.0.0.1:38180"
PROBE = "/api/__maintenance_probe__"
MAX_SECONDS = 900
MAX_RATE = 50.0


def scenario_inventory() -> str:
    # Other checkouts leave their own molecule.<hash>.maintenance behind: the one converged last is the newest.
    found = glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.maintenance/inventory"))
    if not found:
        raise SystemExit("no inventory of the maintenance scenario: run `molecule converge -s maintenance` first")
    return max(found, key=os.path.getmtime)


class Probe(threading.Thread):
    """POSTs the probe at a fixed pace until stopped (or MAX_SECONDS), recording (monotonic time, outcome)."""

    def __init__(self, url: str, interval: float, timeout: float) -> None:
        super().__init__(daemon=True)
        assert url.startswith("http://127.0.0.1"), "benchmark traffic stays on loopback"
        self.url, self.interval, self.timeout = url + PROBE, max(interval, 1 / MAX_RATE), timeout
        self.samples: list[tuple[float, str]] = []
        self.stopped = threading.Event()

    def ask(self) -> str:
        request = urllib.request.Request(self.url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return "accepted" if answer.status != 503 else "refused"
        except urllib.error.HTTPError as error:
            return "refused" if error.code == 503 else "accepted"
        except OSError:
            return "no answer"

    def run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stopped.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            self.samples.append((started, self.ask()))
            self.stopped.wait(max(0.0, self.interval - (time.monotonic() - started)))


class StartWatcher(threading.Thread):
    """Reads, once a second, when systemd started the app's current process (monotonic, microseconds)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.starts: set[float] = set()
        self.stopped = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stopped.is_set() and time.monotonic() < deadline:
            done = subprocess.run(
                ["docker", "exec", APP_HOST, "systemctl", "show", "-p", "ExecMainStartTimestampMonotonic", "--value", "nekomorto"],
                capture_output=True, text=True, check=False,
            )
            if done.stdout.strip().isdigit() and int(done.stdout) > 0:
                self.starts.add(int(done.stdout) / 1e6)
            self.stopped.wait(1.0)


def gaps(samples: list[tuple[float, str]]) -> list[tuple[float, float]]:
    """(start, end) of each run of 'no answer': from the last answer before it to the first after it."""
    found, last_answer, in_gap = [], None, False
    for moment, outcome in samples:
        if outcome == "no answer":
            in_gap = True
        else:
            if in_gap and last_answer is not None:
                found.append((last_answer, moment))
            in_gap, last_answer = False, moment
    return found


def one_window(inventory: str, task: str, interval: float) -> dict:
    env = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    probe = Probe(URL, interval, timeout=1.0)
    watcher = StartWatcher()
    watcher.start()
    probe.start()
    time.sleep(1.0)
    started = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", "-i", inventory, str(ROOT / "playbooks/maintenance.yml"), "-e", f"maintenance_task={task}"],
        env=env, capture_output=True, text=True, check=False,
    )
    playbook_s = time.monotonic() - started
    time.sleep(1.0)
    probe.stopped.set()
    watcher.stopped.set()
    probe.join()
    watcher.join()
    if run.returncode != 0:
        raise SystemExit(f"the window failed:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
    samples = probe.samples
    refused = [moment for moment, outcome in samples if outcome == "refused"]
    answers = [moment for moment, outcome in samples if outcome != "no answer"]
    boots = []
    # The processes started during the window (the one running before it started earlier).
    for start in sorted(moment for moment in watcher.starts if moment > started):
        first = next((moment for moment in answers if moment > start), None)
        if first is not None:
            boots.append(first - start)
    return {
        "playbook_s": playbook_s,
        "requests": len(samples),
        "refused_s": (refused[-1] - refused[0]) if refused else 0.0,
        "refused_n": len(refused),
        "no_answer_n": sum(1 for sample in samples if sample[1] == "no answer"),
        "gaps_s": [end - start for start, end in gaps(samples)],
        "boots_s": boots,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="uploads_reorganize", help="the task whose dry-run the window runs")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two probes (at least 0.02)")
    parser.add_argument("--inventory", default=None, help="default: the maintenance scenario's")
    args = parser.parse_args()
    inventory = args.inventory or scenario_inventory()
    print(f"window with one dry-run ({args.task}) on the maintenance scenario, probe every {args.interval:.2f} s on {URL}")
    for round_number in range(1, args.rounds + 1):
        result = one_window(inventory, args.task, args.interval)
        boots = ", ".join(f"{value:.2f}" for value in result["boots_s"]) or "?"
        gap_text = ", ".join(f"{value:.2f}" for value in result["gaps_s"]) or "none"
        ratio = result["refused_s"] / (sum(result["boots_s"]) / len(result["boots_s"])) if result["boots_s"] else float("nan")
        print(f"round {round_number}:")
        print(f"  writes refused (first 503 to last 503): {result['refused_s']:.2f} s ({result['refused_n']} x 503)")
        print(f"  app boot time, process start to first answer, per restart: {boots} s")
        print(f"  no answer at all around the restarts: {gap_text} s ({result['no_answer_n']} probes)")
        print(f"  refused window / mean boot time: {ratio:.1f}")
        print(f"  ansible-playbook wall time: {result['playbook_s']:.1f} s, {result['requests']} probes sent")


if __name__ == "__main__":
    main()
