"""v1 is live (converge): write rows and upload files, back up, and check what the backup holds."""

from __future__ import annotations

from conftest import (
    APP_ENV,
    APP_URL,
    BACKUP_ROOT,
    DB_PASSWORD,
    UPLOADS,
    applied_migrations,
    as_app_user,
    assert_no_secret,
    async_job_files,
    backup,
    backup_ids,
    journal,
    manifest,
    psql,
    recall,
    remember,
    table_checksums,
    uploads_listing,
)

import testbed

# What the stand-in's npm run db:backup prints on its last line.
SCRIPT_PRINTS = "public/uploads copy"


def test_seed_rows_and_uploads(app, db):
    seeded = as_app_user(app, "npm run db:seed")
    assert seeded.rc == 0, seeded.stdout + seeded.stderr
    # Files the seed does not make: nested folders, a space and non-ASCII in a name, an empty file.
    made = app.run(
        f"set -e; cd {UPLOADS}; mkdir -p 'posts/2026/novembro'; printf 'capa' > 'posts/2026/novembro/capa final.png';"
        " printf 'ção' > 'posts/2026/ilustração.txt'; : > posts/empty.bin;"
        " head -c 300000 /dev/urandom > posts/big.bin; chown -R nekomorto:nekomorto posts"
    )
    assert made.rc == 0, made.stderr
    created = testbed.http(f"{APP_URL}/api/posts", method="POST", body={"title": "antes do backup", "body": "v1"})
    assert created.status == 201
    assert int(psql(db, "SELECT count(*) FROM posts")[0][0]) >= 5


def test_backup_is_taken_and_verified(app, db):
    before = backup_ids(app)
    golden_tables = table_checksums(db)
    golden_uploads = uploads_listing(app)

    # A value the operator declared secret (app_env_secret_names) that npm run db:backup prints: masked in
    # the output, even at -vvv, and in the manifest (test below).
    run = backup("-vvv", backup_app_script=True, backup_reason="before the v2 upgrade",
                 app_env={**APP_ENV, "SNAPSHOT_NOTE": SCRIPT_PRINTS}, app_env_secret_names=["SNAPSHOT_NOTE"])
    assert run.rc == 0, run.output[-3000:]
    assert_no_secret(run)
    assert DB_PASSWORD not in run.output
    assert SCRIPT_PRINTS not in run.output

    new = sorted(set(backup_ids(app)) - set(before))
    assert len(new) == 1
    backup_id = new[0]
    remember(golden_id=backup_id, golden_tables=golden_tables, golden_uploads=golden_uploads,
             golden_migrations=applied_migrations(db))

    folder = app.file(f"{BACKUP_ROOT}/{backup_id}")
    assert folder.is_directory and folder.user == "root" and folder.mode == 0o700
    for name in ("db.dump", "uploads.tar", "uploads.sha256", "manifest.json"):
        item = app.file(f"{BACKUP_ROOT}/{backup_id}/{name}")
        assert item.is_file and item.mode == 0o600, name
    assert app.file(BACKUP_ROOT).mode == 0o700
    # The uploads are archived in the background beside the dump: its job's result file is not left behind.
    assert async_job_files(app) == []


def test_manifest_describes_the_backup(app, db):
    state = recall()
    data = manifest(app, state["golden_id"])
    assert data["format"] == "nekomorto.ops.backup" and data["id"] == state["golden_id"]
    assert data["reason"] == "before the v2 upgrade"
    assert data["host"] == "nekomorto-rb-app1"
    assert data["release"]["version"] == "v1"
    assert app.file("/srv/nekomorto/current").linked_to.endswith(data["release"]["id"])
    assert data["database"]["applied_migrations"] == state["golden_migrations"]
    assert data["database"]["size_bytes"] > 0
    counts = {table["name"]: table["rows"] for table in data["database"]["tables"]}
    for name, checksum in state["golden_tables"].items():
        assert counts[name] == int(checksum.split(":")[0]), name
    assert data["uploads"]["files"] == len(state["golden_uploads"])
    assert set(data["files"]) == {"db.dump", "uploads.tar", "uploads.sha256"}
    for name, entry in data["files"].items():
        digest = app.run(f"sha256sum {BACKUP_ROOT}/{state['golden_id']}/{name}").stdout.split()[0]
        assert entry["sha256"] == digest, name
    assert data["tools"]["pg_dump"].startswith("17.")
    assert {"dump", "uploads", "total"} <= set(data["durations_s"])
    assert data["app_snapshot"]["command"] == "npm run db:backup"
    output = data["app_snapshot"]["output"]
    assert any("db:backup: wrote backups/backup-" in line for line in output)
    assert any(line.strip().startswith("********: ") for line in output), output
    assert not any(SCRIPT_PRINTS in line for line in output)


def test_checksum_list_matches_the_live_uploads(app):
    state = recall()
    checked = app.run(f"cd {UPLOADS} && sha256sum --quiet -c {BACKUP_ROOT}/{state['golden_id']}/uploads.sha256")
    assert checked.rc == 0, checked.stdout + checked.stderr
    listed = app.file(f"{BACKUP_ROOT}/{state['golden_id']}/uploads.sha256").content_string.splitlines()
    assert len(listed) == len(state["golden_uploads"])


def test_dump_reads_back_with_every_table(app):
    state = recall()
    listing = app.run(f"pg_restore --list {BACKUP_ROOT}/{state['golden_id']}/db.dump")
    assert listing.rc == 0
    for name in state["golden_tables"]:
        assert f"TABLE DATA public {name} " in listing.stdout, name


def test_backup_is_journaled(app):
    entry = journal(app)[-1]
    assert entry["kind"] == "backup" and entry["outcome"] == "success"
    assert entry["backup_id"] == recall()["golden_id"]
    assert not app.file("/srv/nekomorto/state/lock").exists


def test_backup_info_counts_it(app):
    state = recall()
    run = testbed.run_playbook(
        "molecule/rollback/tests/backup_info.yml", extra_vars={"backup_id": state["golden_id"]},
    )
    assert run.rc == 0, run.output[-2000:]
