"""Measures the verified backup and restore against the raw tools on the same data, printing numbers, asserting nothing.

On a throwaway systemd test host (the test-host image: PostgreSQL 17 and its client, on 127.0.0.1:--port),
generates a database of at least --db-size-mb MiB and --upload-files upload files, then times, in the same run:

- backup: playbooks/backup.yml (the whole playbook: lock, dump, uploads archive, manifest, retention, journal)
  and the data path alone (the pg_dump and uploads_archive modules side by side, as the role runs them,
  then backup_manifest), against raw `pg_dump -Fc` + `tar -cf` of the same data;
- restore: the rollback's data path (pg_restore module in one transaction + uploads_archive extracted),
  alone and with the checks that precede it (backup_info sha256 of every file, pg_restore reading every
  block back, the archive against its list), against raw `pg_restore --clean --if-exists --single-transaction`
  + `tar -xf`;
- the parallel directory format: raw `pg_dump -Fd` with 1 and --jobs workers, the module with --jobs
  workers, and (for information) `pg_restore -j` into a scratch database.

Ratios are collection / raw (the issue's target: at most 1.10). The modules run through Ansible's docker
connection, so each module time includes Ansible's own start-up (also printed, measured with `ping`).

Usage: .venv/bin/python benchmarks/backup_restore.py [--db-size-mb 1024] [--upload-files 2000] [--upload-kb 64]
       [--jobs 4] [--rounds 1] [--keep]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("NEKOMORTO_TESTHOST_IMAGE", "nekomorto-testhost:trixie")
CONTAINER = "nekomorto-bench-backup"
APP_ROOT = "/srv/nekomorto"
ENV_FILE = f"{APP_ROOT}/shared/.env"
UPLOADS = f"{APP_ROOT}/shared/public/uploads"
BACKUPS = "/var/backups/nekomorto"
WORK = "/var/tmp/bench"
ROLE = "bench_app"
DATABASE = "nekomorto"
PASSWORD = "bench-app-pw-4e1c"
BIG_TABLES = ("posts", "comments", "audit_log", "events")


def docker(script: str, check: bool = True, timeout: int = 7200) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", "exec", CONTAINER, "bash", "-c", script], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"failed in {CONTAINER}: {script[:200]}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def timed(script: str) -> float:
    started = time.monotonic()
    docker(script)
    return time.monotonic() - started


def conninfo(database: str = DATABASE) -> str:
    return f"host=127.0.0.1 port={ARGS.port} user={ROLE} dbname={database}"


def ansible_env() -> dict[str, str]:
    # ansible and ansible-playbook from the venv running this script (.venv/bin/python benchmarks/...).
    return dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
                ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_PIPELINING="True",
                ANSIBLE_NOCOLOR="1")


def module(name: str, args: dict) -> tuple[float, dict]:
    command = ["ansible", "all", "-i", f"{CONTAINER},", "-c", "community.docker.docker",
               "-e", "ansible_python_interpreter=/usr/bin/python3", "-m", name] + (["-a", json.dumps(args)] if args else [])
    started = time.monotonic()
    done = subprocess.run(command, env=ansible_env(), capture_output=True, text=True, timeout=7200, check=False)
    elapsed = time.monotonic() - started
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][CONTAINER]
    if result.get("failed"):
        raise SystemExit(f"{name} failed: {result.get('msg')}")
    return elapsed, result


def playbook(path: str, inventory: str, extra: dict) -> float:
    started = time.monotonic()
    done = subprocess.run(["ansible-playbook", "-i", inventory, str(ROOT / path), "-e", json.dumps(extra)],
                          env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
                          capture_output=True, text=True, timeout=7200, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{path} failed:\n{done.stdout[-3000:]}")
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# The test host and its data.

def start_host() -> None:
    subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)
    subprocess.run(["docker", "run", "-d", "--name", CONTAINER, "--network", "host", "--cgroupns", "host",
                    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
                    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--security-opt", "seccomp=unconfined",
                    IMAGE, "/lib/systemd/systemd"], capture_output=True, check=True)
    docker(
        "for i in $(seq 1 100); do [ -S /run/systemd/private ] && break; sleep 0.2; done;"
        f" sed -i -e 's/^#\\?port = .*/port = {ARGS.port}/' -e \"s/^#\\?listen_addresses = .*/listen_addresses = '127.0.0.1'/\""
        " /etc/postgresql/17/main/postgresql.conf && systemctl start postgresql@17-main &&"
        f" su postgres -c \"psql -q -p {ARGS.port} -c \\\"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'\\\""
        f" -c 'CREATE DATABASE {DATABASE} OWNER {ROLE}'\" &&"
        " useradd --system --home-dir /srv/nekomorto --shell /usr/sbin/nologin nekomorto &&"
        f" mkdir -p {APP_ROOT}/shared/public {APP_ROOT}/state {WORK} && chown -R nekomorto: {APP_ROOT} &&"
        f" printf 'DATABASE_URL=postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{ARGS.port}/{DATABASE}\\n' > {ENV_FILE} &&"
        f" chown nekomorto: {ENV_FILE} && chmod 0600 {ENV_FILE} &&"
        f" printf '127.0.0.1:{ARGS.port}:*:{ROLE}:{PASSWORD}\\n' > /root/.pgpass && chmod 0600 /root/.pgpass"
    )


def generate_data() -> tuple[int, int, int]:
    """Four big tables (pg_dump's workers share out tables, not rows), an index, foreign keys, text that
    compresses like real content; upload files of random bytes."""
    psql = f"psql -X -q -v ON_ERROR_STOP=1 '{conninfo()}'"
    docker(f"""{psql} <<'SQL'
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL, bio text);
INSERT INTO authors (name, bio) SELECT 'author ' || g, repeat(md5(g::text), 8) FROM generate_series(1, 5000) g;
CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
  migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
  applied_steps_count int NOT NULL DEFAULT 0);
INSERT INTO "_prisma_migrations" VALUES ('m1', repeat('a', 64), now(), '20260101000000_init', NULL, NULL, now(), 1);
SQL""")
    for table in BIG_TABLES:
        docker(f"""{psql} -c "CREATE TABLE {table} (id bigserial PRIMARY KEY, author_id int NOT NULL REFERENCES authors(id),
          title text NOT NULL, body text NOT NULL, meta jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
          CREATE INDEX {table}_author ON {table} (author_id)" """)
    batch_rows = min(50_000, max(2_500, ARGS.db_size_mb * 40))  # about 1 KiB per row, four tables a round
    while True:
        size_mb = int(docker(f"{psql} -At -c \"SELECT pg_database_size('{DATABASE}') / 1048576\"").stdout.strip())
        if size_mb >= ARGS.db_size_mb:
            break
        for table in BIG_TABLES:
            docker(f"""{psql} -c "INSERT INTO {table} (author_id, title, body, meta)
              SELECT 1 + (random() * 4999)::int, 'row ' || g || ' ' || md5(random()::text),
                     repeat(md5(random()::text) || ' lorem ipsum dolor sit amet ', 12),
                     jsonb_build_object('tags', ARRAY[md5(g::text)], 'views', g % 1000, 'lang', 'pt-BR')
              FROM generate_series(1, {batch_rows}) g" """)
    docker(f"{psql} -c 'VACUUM ANALYZE'")
    rows = sum(int(docker(f"{psql} -At -c 'SELECT count(*) FROM {table}'").stdout.strip()) for table in BIG_TABLES)
    docker(
        f"python3 - <<'PY'\nimport os, random\nrandom.seed(7)\nroot = '{UPLOADS}'\n"
        f"for index in range({ARGS.upload_files}):\n"
        "    folder = os.path.join(root, 'projects', str(index % 40), 'gallery' if index % 3 else 'covers')\n"
        "    os.makedirs(folder, exist_ok=True)\n"
        f"    size = max(1, int({ARGS.upload_kb} * 1024 * random.uniform(0.5, 1.5)))\n"
        "    with open(os.path.join(folder, f'image-{index:05d}.png'), 'wb') as handle:\n"
        "        handle.write(os.urandom(size))\nPY\n"
        f"chown -R nekomorto: {APP_ROOT}/shared/public"
    )
    uploads_mb = int(docker(f"du -sm {UPLOADS} | cut -f1").stdout.split()[0])
    return size_mb, rows, uploads_mb


# ---------------------------------------------------------------------------------------------
# What is measured.

def raw_backup(tag: str) -> dict[str, float]:
    docker(f"rm -rf {WORK}/raw-{tag}; mkdir -p {WORK}/raw-{tag}")
    dump = timed(f"pg_dump -Fc -f {WORK}/raw-{tag}/db.dump '{conninfo()}'")
    archive = timed(f"tar -cf {WORK}/raw-{tag}/uploads.tar -C {APP_ROOT}/shared/public uploads")
    # For information: a script could run the two side by side too.
    both = timed(f"pg_dump -Fc -f {WORK}/raw-{tag}/db-beside.dump '{conninfo()}' & dumping=$!;"
                 f" tar -cf {WORK}/raw-{tag}/uploads-beside.tar -C {APP_ROOT}/shared/public uploads && wait $dumping"
                 f" && rm -f {WORK}/raw-{tag}/db-beside.dump {WORK}/raw-{tag}/uploads-beside.tar")
    return {"dump": dump, "uploads": archive, "total": dump + archive, "side_by_side": both}


def collection_backup(tag: str) -> tuple[dict[str, float], str]:
    folder = f"{BACKUPS}/2026010{tag}T000000Z"
    docker(f"rm -rf {folder}; mkdir -p -m 0700 {folder}")
    # As the backup role does: the uploads archived beside the dump, not after it.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        archiving = pool.submit(module, "nekomorto.ops.uploads_archive", {
            "state": "archived", "src": UPLOADS, "path": f"{folder}/uploads.tar", "checksum_file": f"{folder}/uploads.sha256"})
        dump, dumped = module("nekomorto.ops.pg_dump", {"env_file": ENV_FILE, "dest": f"{folder}/db.dump"})
        archive, archived = archiving.result()
        both = time.monotonic() - started
    seal, _sealed = module("nekomorto.ops.backup_manifest", {
        "path": folder, "content": {"created_at": "2026-01-01T00:00:00Z", "database": {"tables": dumped["tables"]}},
        "expect_checksums": {"db.dump": dumped["sha256"], "uploads.tar": archived["archive_sha256"]}})
    times = {"dump": dump, "uploads": archive, "both": both, "manifest": seal, "total": both + seal,
             "dump_inside": dumped["durations"]["dump"] + dumped["durations"]["verify"] + dumped["durations"]["facts"],
             "uploads_inside": archived["duration"]}
    return times, folder


def raw_restore(tag: str) -> dict[str, float]:
    restore = timed(f"pg_restore --clean --if-exists --single-transaction --no-owner --exit-on-error"
                    f" -d '{conninfo()}' {WORK}/raw-{tag}/db.dump")
    extract = timed(f"rm -rf {WORK}/extract-{tag}; mkdir -p {WORK}/extract-{tag} && tar -xf {WORK}/raw-{tag}/uploads.tar"
                    f" -C {WORK}/extract-{tag}")
    return {"restore": restore, "uploads": extract, "total": restore + extract}


def collection_restore(folder: str, tables: list) -> dict[str, float]:
    check, _info = module("nekomorto.ops.backup_info", {"path": BACKUPS, "backup_id": os.path.basename(folder)})
    read_back, _read = module("nekomorto.ops.pg_restore", {"src": f"{folder}/db.dump", "verify_only": True})
    archive_check, _archive = module("nekomorto.ops.uploads_archive", {
        "state": "verified", "path": f"{folder}/uploads.tar", "checksum_file": f"{folder}/uploads.sha256"})
    restore, restored = module("nekomorto.ops.pg_restore", {"env_file": ENV_FILE, "src": f"{folder}/db.dump",
                                                            "expect_tables": tables})
    docker(f"rm -rf {UPLOADS}.restore")
    extract, _extracted = module("nekomorto.ops.uploads_archive", {
        "state": "extracted", "path": f"{folder}/uploads.tar", "checksum_file": f"{folder}/uploads.sha256",
        "dest": f"{UPLOADS}.restore", "owner": "nekomorto", "group": "nekomorto"})
    checks = check + read_back + archive_check
    return {"checks": checks, "restore": restore, "uploads": extract, "total": restore + extract,
            "total_with_checks": checks + restore + extract, "restore_inside": restored["durations"]["restore"]}


def parallel_directory() -> dict[str, float]:
    docker(f"rm -rf {WORK}/dir-1 {WORK}/dir-n {BACKUPS}/20260109T000000Z && mkdir -p -m 0700 {BACKUPS}/20260109T000000Z")
    one = timed(f"pg_dump -Fd -j 1 -f {WORK}/dir-1 '{conninfo()}'")
    many = timed(f"pg_dump -Fd -j {ARGS.jobs} -f {WORK}/dir-n '{conninfo()}'")
    ours, _dumped = module("nekomorto.ops.pg_dump", {"env_file": ENV_FILE, "dest": f"{BACKUPS}/20260109T000000Z/db.dir",
                                                     "format": "directory", "jobs": ARGS.jobs})
    docker(f"su postgres -c \"psql -q -p {ARGS.port} -c 'CREATE DATABASE scratch OWNER {ROLE}'\"")
    restore_one = timed(f"pg_restore -j 1 --no-owner --exit-on-error -d '{conninfo('scratch')}' {WORK}/dir-1")
    docker(f"su postgres -c \"psql -q -p {ARGS.port} -c 'DROP DATABASE scratch' -c 'CREATE DATABASE scratch OWNER {ROLE}'\"")
    restore_many = timed(f"pg_restore -j {ARGS.jobs} --no-owner --exit-on-error -d '{conninfo('scratch')}' {WORK}/dir-n")
    docker(f"su postgres -c \"psql -q -p {ARGS.port} -c 'DROP DATABASE scratch'\"")
    return {"dump_j1": one, "dump_jn": many, "module_jn": ours, "restore_j1": restore_one, "restore_jn": restore_many}


def backup_playbook() -> float:
    with tempfile.TemporaryDirectory() as folder:
        inventory = pathlib.Path(folder) / "hosts.yml"
        inventory.write_text(
            "all:\n  vars:\n    ansible_connection: community.docker.docker\n    ansible_python_interpreter: /usr/bin/python3\n"
            f"  children:\n    nekomorto_app:\n      hosts:\n        {CONTAINER}:\n"
        )
        return playbook("playbooks/backup.yml", str(inventory), {"backup_keep_count": 50})


def main() -> None:
    print(f"test host {CONTAINER} ({IMAGE}), PostgreSQL on 127.0.0.1:{ARGS.port}, {os.cpu_count()} CPUs on this machine")
    start_host()
    try:
        size_mb, rows, uploads_mb = generate_data()
        print(f"data: database {size_mb} MiB ({rows} rows in {len(BIG_TABLES)} big tables), {ARGS.upload_files} upload files ({uploads_mb} MiB)")
        startup, _pong = module("ansible.builtin.ping", {})
        print(f"Ansible start-up per module call (ping): {startup:.1f} s")
        rows_out = []
        for round_number in range(1, ARGS.rounds + 1):
            tag = str(round_number)
            raw = raw_backup(tag)
            ours, folder = collection_backup(tag)
            tables = json.loads(docker(f"cat {folder}/manifest.json").stdout)["database"]["tables"]
            raw_back = raw_restore(tag)
            ours_back = collection_restore(folder, tables)
            rows_out.append((raw, ours, raw_back, ours_back))
            print(f"\nround {round_number}")
            print(f"  backup   raw pg_dump -Fc {raw['dump']:7.1f} s + tar -c {raw['uploads']:6.1f} s = {raw['total']:7.1f} s"
                  f" (side by side in one script: {raw['side_by_side']:.1f} s, ratio to it"
                  f" {ours['total'] / raw['side_by_side']:.2f})")
            print(f"           modules pg_dump {ours['dump']:7.1f} s (inside {ours['dump_inside']:.1f}) beside uploads_archive"
                  f" {ours['uploads']:6.1f} s (inside {ours['uploads_inside']:.1f}): {ours['both']:7.1f} s"
                  f" + manifest {ours['manifest']:5.1f} s = {ours['total']:7.1f} s   ratio {ours['total'] / raw['total']:.2f}")
            print(f"  restore  raw pg_restore -1 {raw_back['restore']:7.1f} s + tar -x {raw_back['uploads']:6.1f} s"
                  f" = {raw_back['total']:7.1f} s")
            print(f"           modules pg_restore {ours_back['restore']:7.1f} s (inside {ours_back['restore_inside']:.1f})"
                  f" + extract {ours_back['uploads']:6.1f} s = {ours_back['total']:7.1f} s   ratio"
                  f" {ours_back['total'] / raw_back['total']:.2f}")
            print(f"           with the checks before it (sha256, read-back, archive list) {ours_back['checks']:6.1f} s"
                  f" = {ours_back['total_with_checks']:7.1f} s   ratio {ours_back['total_with_checks'] / raw_back['total']:.2f}")
        whole = backup_playbook()
        print(f"\nplaybooks/backup.yml, whole run (lock, dump, archive, manifest, retention, journal): {whole:.1f} s"
              f"   ratio to raw {whole / rows_out[-1][0]['total']:.2f}")
        parallel = parallel_directory()
        print(f"\ndirectory format: raw pg_dump -Fd -j1 {parallel['dump_j1']:.1f} s, -j{ARGS.jobs} {parallel['dump_jn']:.1f} s"
              f" (speed-up {parallel['dump_j1'] / parallel['dump_jn']:.2f}); module format=directory jobs={ARGS.jobs}"
              f" {parallel['module_jn']:.1f} s")
        print(f"                  pg_restore -j1 {parallel['restore_j1']:.1f} s, -j{ARGS.jobs} {parallel['restore_jn']:.1f} s"
              f" (speed-up {parallel['restore_j1'] / parallel['restore_jn']:.2f}; into a new database, not one transaction)")
    finally:
        if not ARGS.keep:
            subprocess.run(["docker", "rm", "-f", CONTAINER], capture_output=True, check=False)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db-size-mb", type=int, default=1024, help="database size to reach (default 1024)")
    parser.add_argument("--upload-files", type=int, default=2000, help="upload files (default 2000)")
    parser.add_argument("--upload-kb", type=int, default=64, help="mean size of an upload file in KiB (default 64)")
    parser.add_argument("--jobs", type=int, default=max(2, min(4, os.cpu_count() or 2)), help="parallel workers")
    parser.add_argument("--rounds", type=int, default=1, help="raw/collection rounds (default 1)")
    parser.add_argument("--port", type=int, default=55492, help="PostgreSQL port on 127.0.0.1 (default 55492)")
    parser.add_argument("--keep", action="store_true", help="keep the test host afterwards")
    return parser.parse_args()


ARGS = parse_arguments() if __name__ == "__main__" else argparse.Namespace()

if __name__ == "__main__":
    print(shlex.join(["benchmarks/backup_restore.py", *[f"--{key.replace('_', '-')}={value}" for key, value in vars(ARGS).items()]]))
    main()
