"""A release built from a source tarball the operator provides (release_source=archive), not from git."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

import testbed
from conftest import APP_ROOT, APP_URL, deploy, served_version

VERSION = "v3"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The stand-in's v3 as a .tar.gz with a top folder, made on the controller from the test bed's repository."""
    path = tmp_path_factory.mktemp("archive") / "nekomorto-v3.tar.gz"
    with path.open("wb") as out:
        subprocess.run(["git", "-C", str(testbed.ROOT / ".cache" / "standin.git"), "archive", "--format=tar.gz",
                        "--prefix=nekomorto-v3/", VERSION], stdout=out, check=True)
    return path


def test_a_missing_archive_is_refused_naming_the_variable(app, tmp_path):
    before = testbed.app_snapshot(app)
    run = deploy(VERSION, release_source="archive", release_archive_path=str(tmp_path / "absent.tar.gz"))
    assert run.rc != 0
    assert f"release_archive_path {tmp_path / 'absent.tar.gz'} is not a file on the controller. Nothing was changed." \
        in " ".join(run.output.split()), run.output[-3000:]
    assert testbed.app_snapshot(app) == before


def test_the_release_is_built_from_the_archive_and_serves(app, archive):
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    run = deploy(VERSION, release_source="archive", release_archive_path=str(archive),
                 release_archive_strip_components=1)
    assert run.rc == 0, run.output[-4000:]
    release = f"{APP_ROOT}/releases/{VERSION}-{sha256[:12]}"
    assert app.file(f"{APP_ROOT}/current").linked_to == release
    manifest = json.loads(app.file(f"{release}/.nekomorto-release.json").content_string)
    assert (manifest["status"], manifest["source"], manifest["commit"]) == ("built", "archive", sha256)
    # The top folder was stripped: the app's files sit at the release's root, the shared paths linked in.
    assert app.file(f"{release}/package.json").exists
    assert app.file(f"{release}/.env").linked_to == f"{APP_ROOT}/shared/.env"
    assert served_version() == VERSION
    assert testbed.http(f"{APP_URL}/api/health").json()["status"] == "ok"


def test_the_same_archive_again_changes_nothing(app, archive):
    run = deploy(VERSION, release_source="archive", release_archive_path=str(archive),
                 release_archive_strip_components=1)
    assert run.rc == 0, run.output[-3000:]
    assert run.recap()["nekomorto-app1"]["changed"] == 0
