"""Deploy v2 (a new migration): the deploy backs up before migrating; then the data changes."""

from __future__ import annotations

from conftest import (
    APP_URL,
    UPLOADS,
    applied_migrations,
    backup_ids,
    deploy,
    journal,
    manifest,
    recall,
    remember,
    served_version,
    table_checksums,
    uploads_listing,
)

import testbed


def test_deploy_v2_backs_up_before_migrating(app, db):
    before = backup_ids(app)
    run = deploy("v2")
    assert run.rc == 0, run.output[-3000:]
    assert served_version() == "v2"
    assert "20260201000000_project_featured" in applied_migrations(db)

    new = sorted(set(backup_ids(app)) - set(before))
    assert len(new) == 1, new
    taken = manifest(app, new[0])
    assert taken["reason"].startswith("before migrating to v2-")
    assert taken["release"]["version"] == "v1"
    assert "20260201000000_project_featured" not in taken["database"]["applied_migrations"]
    assert journal(app)[-1]["kind"] == "deploy" and journal(app)[-1]["outcome"] == "success"
    remember(v2_release=app.file("/srv/nekomorto/current").linked_to)


def test_data_changes_after_the_upgrade(app, db):
    created = testbed.http(f"{APP_URL}/api/posts", method="POST", body={"title": "depois do v2"})
    assert created.status == 201
    first = testbed.http(f"{APP_URL}/api/posts").json()["posts"][0]["id"]
    assert testbed.http(f"{APP_URL}/api/posts/{first}", method="PUT", body={"title": "editado no v2"}).status == 200
    last = created.json()["post"]["id"]
    assert testbed.http(f"{APP_URL}/api/posts/{last - 1}", method="DELETE").status == 204
    assert testbed.http(f"{APP_URL}/api/session").status == 200  # a session row
    changed = app.run(
        f"set -e; cd {UPLOADS}; rm -f orphan-antigo.png 'posts/2026/novembro/capa final.png';"
        " printf 'novo' > novo-no-v2.png; printf 'x' >> posts/big.bin; mkdir -p v2only; printf 'y' > v2only/a.png;"
        " chown -R nekomorto:nekomorto ."
    )
    assert changed.rc == 0, changed.stderr

    state = recall()
    assert table_checksums(db) != state["golden_tables"]
    assert uploads_listing(app) != state["golden_uploads"]
