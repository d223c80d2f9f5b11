"""A journal line that cannot be written (here the journal's path is a folder) does not keep the run lock:
the lock is released, and the run, which did its work, fails saying so."""

from __future__ import annotations

from conftest import APP_ROOT, deploy, served_version

JOURNAL = f"{APP_ROOT}/state/journal.jsonl"


def test_an_unwritable_journal_still_releases_the_lock(app):
    live = served_version()
    app.run_expect([0], f"mv {JOURNAL} {JOURNAL}.aside && mkdir {JOURNAL}")
    try:
        run = deploy(live)
    finally:
        app.run_expect([0], f"rmdir {JOURNAL} && mv {JOURNAL}.aside {JOURNAL}")
    said = " ".join(run.output.split())
    assert run.rc != 0
    assert "The run itself succeeded and its lock is released, but its journal line could not be written" in said, \
        run.output[-3000:]
    assert not app.file(f"{APP_ROOT}/state/lock").exists
    assert served_version() == live
