"""The app's pinned Node.js from a tarball, as production installs it (nodejs_source=tarball or archive).

A copy of the official download site's layout (v<version>/node-v<version>-linux-x64.tar.xz and
SHASUMS256.txt, built by scripts/testbed/setup.sh from the official binary) is served on 127.0.0.1 by
the test; the app host (host networking) downloads from it. The rest of the scenario runs the
distribution's Node.js, so these tests also switch the live app from one runtime to the other and back.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

import testbed
from conftest import APP_ROOT, APP_URL, DB_PORT, commit_version, deploy, served_version

VERSION = "24.14.0"
NPM_VERSION = "11.9.0"
NAME = f"node-v{VERSION}-linux-x64"
RUNTIME = f"/opt/nodejs/{NAME}"
DIST = testbed.ROOT / ".cache" / "nodejs-dist" / f"v{VERSION}"
REPO = "/tmp/node24"
TAG = "v3-node24"
BACKUP_ROOT = "/var/backups/nekomorto"


class _Mirror(SimpleHTTPRequestHandler):
    requested: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        self.requested.append(self.path)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """Serves /good (the tarball and its SHASUMS256.txt) and /tampered (the same tarball, listed with
    another sha256); yields the base URL and the list of paths requested so far."""
    assert (DIST / "SHASUMS256.txt").is_file(), "scripts/testbed/setup.sh builds the Node.js mirror"
    root = tmp_path_factory.mktemp("nodejs-dist")
    for kind, sums in (("good", (DIST / "SHASUMS256.txt").read_text()), ("tampered", f"{'0' * 64}  {NAME}.tar.xz\n")):
        folder = root / kind / f"v{VERSION}"
        folder.mkdir(parents=True)
        (folder / f"{NAME}.tar.xz").symlink_to(DIST / f"{NAME}.tar.xz")
        (folder / "SHASUMS256.txt").write_text(sums)
    handler = type("Handler", (_Mirror,), {"requested": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requested
    finally:
        server.shutdown()
        server.server_close()


def _unit(app) -> dict[str, str]:
    shown = app.run("systemctl show -p MainPID -p ActiveState -p ExecMainStartTimestampMonotonic nekomorto")
    return dict(line.split("=", 1) for line in shown.stdout.split())


def _assert_restarted(app, before: dict[str, str]) -> None:
    """The unit runs again, with another main process than BEFORE's."""
    after = _unit(app)
    assert after["ActiveState"] == "active"
    assert after["MainPID"] != before["MainPID"]


def _journal_lines(app) -> int:
    return len(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines())


def _said(run: testbed.PlaybookRun) -> str:
    return " ".join(run.output.split())


def _running_binary(app) -> str:
    """The executable the app's main process runs, every link resolved by the kernel. Read as the app
    user: root in the container lacks CAP_SYS_PTRACE, which reading another user's /proc/<pid>/exe needs."""
    return app.run("runuser -u nekomorto -- readlink /proc/%s/exe", _unit(app)["MainPID"]).stdout.strip()


def test_check_mode_says_what_the_runtime_change_would_do_and_changes_nothing(app, mirror):
    """Before any runtime was installed from a tarball (no /opt/nodejs yet): nothing downloaded."""
    base, requested = mirror
    before = testbed.app_snapshot(app)
    run = deploy(served_version(), "--check", nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/good")
    said = _said(run)
    assert run.rc == 0, run.output[-3000:]
    assert (f"Would download {base}/good/v{VERSION}/{NAME}.tar.xz, check it against its SHASUMS256.txt "
            f"and unpack it into {RUNTIME}.") in said
    assert f"Node.js | Point the stable runtime link at {RUNTIME}] *" in run.output
    assert run.recap()["nekomorto-app1"]["changed"] > 0
    assert requested == []
    assert not app.file("/opt/nodejs").exists
    assert app.file(f"{APP_ROOT}/node").linked_to == "/usr"
    assert testbed.app_snapshot(app) == before


def test_a_tarball_that_does_not_match_its_published_checksum_is_refused(app, mirror):
    base, requested = mirror
    before = testbed.app_snapshot(app)
    live = served_version()
    run = deploy(live, nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/tampered")
    assert run.rc != 0
    assert f"did not match {'0' * 64}" in _said(run), run.output[-3000:]
    assert f"/tampered/v{VERSION}/{NAME}.tar.xz" in requested
    # Nothing unpacked or linked, nothing left half-downloaded; the app untouched, the lock released.
    assert not app.file(RUNTIME).exists
    assert not app.file(f"{RUNTIME}.tar.xz").exists
    assert app.file(f"{APP_ROOT}/node").linked_to == "/usr"
    assert testbed.app_snapshot(app) == before
    assert not app.file(f"{APP_ROOT}/state/lock").exists
    assert json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])["outcome"] == "failed"


def test_a_provided_tarball_with_another_sha256_is_refused_before_the_run_starts(app):
    before = testbed.app_snapshot(app)
    journal = _journal_lines(app)
    run = deploy(served_version(), nodejs_source="archive", nodejs_archive_path=str(DIST / f"{NAME}.tar.xz"),
                 nodejs_archive_sha256="ab" * 32)
    said = _said(run)
    assert run.rc != 0
    assert f"has sha256 {(DIST / 'SHASUMS256.txt').read_text().split()[0]}, not the nodejs_archive_sha256 given" in said, \
        run.output[-3000:]
    assert "Nothing was changed." in said
    # Refused with the input checks: no lock was taken, so the run wrote no journal line either.
    assert _journal_lines(app) == journal
    assert testbed.app_snapshot(app) == before
    assert not app.file(RUNTIME).exists


def test_a_provided_tarball_installs_the_runtime_and_the_live_release_restarts_on_it(app):
    """nodejs_source=archive, into an install root of its own so that the download below starts afresh."""
    before = _unit(app)
    live = app.file(f"{APP_ROOT}/current").linked_to
    run = deploy(served_version(), nodejs_source="archive", nodejs_archive_path=str(DIST / f"{NAME}.tar.xz"),
                 nodejs_archive_sha256=(DIST / "SHASUMS256.txt").read_text().split()[0].upper(),
                 nodejs_install_root="/opt/nodejs-provided")
    assert run.rc == 0, run.output[-3000:]
    assert app.file(f"{APP_ROOT}/node").linked_to == f"/opt/nodejs-provided/{NAME}"
    assert app.run(f"{APP_ROOT}/node/bin/node --version").stdout.strip() == f"v{VERSION}"
    # Same release, new runtime: restarted behind the gate.
    assert app.file(f"{APP_ROOT}/current").linked_to == live
    _assert_restarted(app, before)
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"


def test_the_pinned_runtime_from_the_tarball_builds_and_serves_a_new_release(app, mirror):
    base, requested = mirror
    commit_version(app, REPO, "v3", TAG, f"echo {VERSION} > .nvmrc", clone=True)
    before = _unit(app)
    run = deploy(TAG, nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/good", app_repo=REPO)
    assert run.rc == 0, run.output[-4000:]
    assert requested.count(f"/good/v{VERSION}/{NAME}.tar.xz") == 1
    assert app.file(f"{APP_ROOT}/node").linked_to == RUNTIME
    assert app.file(f"{RUNTIME}/bin/node").mode == 0o755
    assert app.file(f"{APP_ROOT}/current").linked_to.startswith(f"{APP_ROOT}/releases/{TAG}-")
    # The unit runs <app_root>/node/bin/node: what the link leads to, with its npm first on the PATH.
    runtime = app.run(f"runuser -u nekomorto -- env PATH={APP_ROOT}/node/bin:/usr/bin:/bin sh -c 'node --version; npm --version'")
    assert runtime.stdout.split() == [f"v{VERSION}", NPM_VERSION], runtime.stderr
    _assert_restarted(app, before)
    assert served_version() == "v3"
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"


def test_deploying_it_again_changes_nothing_and_downloads_nothing(app, mirror):
    base, requested = mirror
    asked = len(requested)
    before = _unit(app)
    run = deploy(TAG, nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/good", app_repo=REPO)
    assert run.rc == 0, run.output[-3000:]
    assert run.recap()["nekomorto-app1"]["changed"] == 0
    assert len(requested) == asked
    assert _unit(app) == before


def test_an_incomplete_runtime_is_unpacked_again(app, mirror):
    """An unpack cut short (a full disk, an interrupted run) left bin/node in place: later runs trusted the folder,
    and every deploy onto it failed at the version check or at npm ci until it was removed by hand."""
    base, _requested = mirror
    root = "/opt/nodejs-provided"
    provided = f"{root}/{NAME}"
    # Not the live runtime (RUNTIME is): cut down to what an interrupted unpack leaves.
    assert app.run(f"truncate -s 1000 {provided}/bin/node && rm -rf {provided}/lib/node_modules/npm").rc == 0
    archive = {"nodejs_source": "archive", "nodejs_archive_path": str(DIST / f"{NAME}.tar.xz"),
               "nodejs_archive_sha256": (DIST / "SHASUMS256.txt").read_text().split()[0], "nodejs_install_root": root}
    checked = deploy(TAG, "--check", app_repo=REPO, **archive)
    assert checked.rc == 0, checked.output[-3000:]
    assert f"and unpack it into {provided} (the runtime there is incomplete: it would be replaced)." in _said(checked)
    run = deploy(TAG, app_repo=REPO, **archive)
    assert run.rc == 0, run.output[-3000:]
    assert app.run(f"{provided}/bin/node --version").stdout.strip() == f"v{VERSION}"
    assert app.file(f"{provided}/lib/node_modules/npm/bin/npm-cli.js").is_file
    assert not app.file(f"{root}/.unpack-{NAME}").exists
    assert app.file(f"{APP_ROOT}/node").linked_to == provided
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"
    # Back on the runtime the next tests start from.
    back = deploy(TAG, nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/good", app_repo=REPO)
    assert back.rc == 0, back.output[-3000:]
    assert app.file(f"{APP_ROOT}/node").linked_to == RUNTIME


def test_a_failed_build_with_another_runtime_puts_the_runtime_back(app):
    commit_version(app, REPO, TAG, "v3-node24-nobuild", "sed -i 's#\"build\": \"[^\"]*\"#\"build\": \"exit 3\"#' package.json")
    before = _unit(app)
    run = deploy("v3-node24-nobuild", nodejs_source="distro", app_repo=REPO)
    assert run.rc != 0
    assert "Building release v3-node24-nobuild-" in _said(run), run.output[-3000:]
    # The build ran with the distribution's runtime; the live app, never restarted, keeps the tarball's.
    assert app.file(f"{APP_ROOT}/node").linked_to == RUNTIME
    assert _unit(app) == before
    assert not app.file(f"{APP_ROOT}/state/lock").exists


def test_an_unhealthy_release_with_another_runtime_returns_to_the_previous_release_and_runtime(app):
    commit_version(app, REPO, TAG, "v3-node24-unhealthy", "git checkout -q v2-unhealthy -- server/extra-checks.js")
    live = app.file(f"{APP_ROOT}/current").linked_to
    before = _unit(app)
    run = deploy("v3-node24-unhealthy", nodejs_source="distro", app_repo=REPO, service_health_timeout=12)
    said = _said(run)
    assert run.rc != 0
    assert "failed its health gate" in said, run.output[-3000:]
    assert f"Returned to {live.rsplit('/', 1)[-1]}, which is healthy again." in said
    # Back on the previous release and on the runtime it was built with, restarted and healthy.
    assert app.file(f"{APP_ROOT}/current").linked_to == live
    assert app.file(f"{APP_ROOT}/node").linked_to == RUNTIME
    _assert_restarted(app, before)
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"


def test_switching_back_to_the_distribution_runtime_restarts_the_live_release(app):
    """The release is already live: only the runtime changes, and the app must start again on it."""
    before = _unit(app)
    live = app.file(f"{APP_ROOT}/current").linked_to
    run = deploy(TAG, nodejs_source="distro", app_repo=REPO)
    assert run.rc == 0, run.output[-3000:]
    assert "nothing restarted" not in _said(run)
    assert app.file(f"{APP_ROOT}/node").linked_to == "/usr"
    assert app.file(f"{APP_ROOT}/current").linked_to == live
    _assert_restarted(app, before)
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"
    # The tarball's runtime stays installed for a rollback to it.
    assert app.file(f"{RUNTIME}/bin/node").exists


def test_an_unhealthy_start_on_another_runtime_alone_returns_to_the_runtime_before(app, mirror):
    """The live release again, now on the tarball's runtime, fails its gate (a smoke check that cannot pass):
    the release stays, <app_root>/node goes back to the distribution's runtime, the app restarts on it."""
    base, _requested = mirror
    live = app.file(f"{APP_ROOT}/current").linked_to
    before = _unit(app)
    never = [{"path": "/api/health", "body_contains": ["nekomorto-text-never-served"]}]
    run = deploy(TAG, nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/good", app_repo=REPO,
                 service_health_timeout=10, health_smoke_checks=never)
    said = _said(run)
    assert run.rc != 0
    assert "failed its health gate" in said, run.output[-3000:]
    assert "Returned to the Node.js runtime before (/usr)" in said
    assert app.file(f"{APP_ROOT}/node").linked_to == "/usr"
    assert app.file(f"{APP_ROOT}/current").linked_to == live
    _assert_restarted(app, before)
    assert _running_binary(app).startswith("/usr/")
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"


def test_a_rollback_puts_back_the_runtime_the_backup_was_taken_with(app, db, mirror):
    """The deploy backs up before migrating while the live release still runs on the distribution's
    runtime, then moves to the tarball's; rolling back to that backup brings back the code, the data and
    the runtime together, and the app runs on it again."""
    base, _requested = mirror
    migration = "20261130000000_runtime_probe"
    commit_version(
        app, REPO, TAG, "v3-node24-migration",
        f"mkdir prisma/migrations/{migration} && "
        f"echo 'CREATE TABLE \"RuntimeProbe\" (id integer PRIMARY KEY);' > prisma/migrations/{migration}/migration.sql && "
        "git add prisma",
    )
    live = app.file(f"{APP_ROOT}/current").linked_to
    assert _running_binary(app).startswith("/usr/")
    backups = set(app.run(f"ls -1 {BACKUP_ROOT}").stdout.split())

    run = deploy("v3-node24-migration", nodejs_source="tarball", nodejs_tarball_base_url=f"{base}/good", app_repo=REPO)
    assert run.rc == 0, run.output[-4000:]
    assert _running_binary(app) == f"{RUNTIME}/bin/node"
    assert testbed.psql(db, 'SELECT count(*) FROM "RuntimeProbe"', port=DB_PORT) == [["0"]]
    (taken,) = set(app.run(f"ls -1 {BACKUP_ROOT}").stdout.split()) - backups
    recorded = json.loads(app.file(f"{BACKUP_ROOT}/{taken}/manifest.json").content_string)["release"]
    assert (recorded["id"], recorded["node_home"]) == (live.rsplit("/", 1)[-1], "/usr")

    before = _unit(app)
    run = testbed.run_playbook("playbooks/rollback.yml", extra_vars={"backup_id": taken, "confirm_rollback": taken})
    assert run.rc == 0, run.output[-4000:]
    assert app.file(f"{APP_ROOT}/node").linked_to == "/usr"
    assert app.file(f"{APP_ROOT}/current").linked_to == live
    _assert_restarted(app, before)
    assert _running_binary(app).startswith("/usr/")
    assert testbed.psql(db, "SELECT to_regclass('\"RuntimeProbe\"') IS NULL", port=DB_PORT) == [["t"]]
    answer = testbed.http(f"{APP_URL}/api/health").json()
    assert (answer["status"], answer["maintenanceMode"]) == ("ok", False)
