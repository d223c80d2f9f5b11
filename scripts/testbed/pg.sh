#!/usr/bin/env bash
# A throwaway PostgreSQL 17 (Debian's, in the test-host image) on 127.0.0.1:${NEKOMORTO_TEST_PG_PORT:-55433}
# for the tests that need a real server outside molecule (engine shim, module integration tests).
#   pg.sh start   prints the superuser URL to export as NEKOMORTO_TEST_PG_URL
#   pg.sh stop
set -euo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/lib.sh"

name=nekomorto-testpg
port="${NEKOMORTO_TEST_PG_PORT:-55433}"
password=testpg-admin-pw-2b9c71

case "${1:-}" in
  start)
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --network host --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined \
      "$TESTBED_HOST_IMAGE" /lib/systemd/systemd >/dev/null
    docker exec "$name" sh -ec "
      for i in \$(seq 1 50); do [ -S /run/systemd/private ] && break; sleep 0.2; done
      systemctl is-system-running --wait >/dev/null || true
      sed -i -e \"s/^#\\?port = .*/port = $port/\" -e \"s/^#\\?listen_addresses = .*/listen_addresses = '127.0.0.1'/\" \
        /etc/postgresql/17/main/postgresql.conf
      systemctl start postgresql@17-main
      su postgres -c \"psql -q -p $port -c \\\"ALTER USER postgres PASSWORD '$password'\\\"\"
    " >/dev/null
    printf 'postgresql://postgres:%s@127.0.0.1:%s/postgres\n' "$password" "$port"
    ;;
  stop)
    docker rm -f "$name" >/dev/null 2>&1 || true
    ;;
  *)
    die "usage: $0 start|stop"
    ;;
esac
