#!/usr/bin/env bash
# Run the whole test suite against real PostgreSQL and MariaDB servers.
#
# The tests use $BRANCHSYNC_TEST_PG (default postgres://root@127.0.0.1:5432/test).
# When that server is not reachable and no URL was given, this script makes one
# available on this machine: it installs PostgreSQL with the system package
# manager when missing (Debian/Ubuntu: apt-get), starts the cluster, and
# creates the role `root` and the database `test` with local trust access.
#
# Likewise $BRANCHSYNC_TEST_MYSQL (default mysql://root@127.0.0.1:3306/test):
# when it does not answer, MariaDB is installed (mariadb-server) when missing,
# started, and root@127.0.0.1 gets an empty password and the database `test`.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${BRANCHSYNC_TEST_PG:-postgres://root@127.0.0.1:5432/test}"

pg_ready() {
    command -v psql >/dev/null 2>&1 && psql "$url" -Atqc 'select 1' >/dev/null 2>&1
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        echo "need root for: $*" >&2; return 1; fi
}

if ! pg_ready; then
    if [ -n "${BRANCHSYNC_TEST_PG:-}" ]; then
        echo "PostgreSQL at \$BRANCHSYNC_TEST_PG is not reachable; start it or unset the variable." >&2
        exit 1
    fi
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "PostgreSQL is not installed: installing it with apt-get…" >&2
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client sqlite3 >/dev/null
        else
            echo "PostgreSQL is not installed. Install PostgreSQL 13 or newer, create a superuser role 'root'" >&2
            echo "and a database 'test' reachable at $url, or set BRANCHSYNC_TEST_PG to a server of yours." >&2
            exit 1
        fi
    fi
    version="$(ls /etc/postgresql | sort -n | tail -1)"
    if ! pg_lsclusters -h | grep -q online; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
    # Role and database for the tests, with trust on loopback for role root.
    as_root su postgres -c "psql -Atqc \"select 1 from pg_roles where rolname='root'\" | grep -q 1 || psql -qc 'create role root superuser login'"
    as_root su postgres -c "psql -Atqc \"select 1 from pg_database where datname='test'\" | grep -q 1 || createdb -O root test"
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! as_root grep -q '^host all root 127.0.0.1/32 trust' "$hba"; then
        as_root sed -i '1i host all root 127.0.0.1/32 trust' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    fi
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    pg_ready || { echo "PostgreSQL did not come up at $url" >&2; exit 1; }
fi

my_url="${BRANCHSYNC_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}"

my_ready() {
    command -v mysql >/dev/null 2>&1 \
        && mysql --protocol=tcp -h127.0.0.1 -P3306 -uroot -e 'select 1' test >/dev/null 2>&1
}

if [ -z "${BRANCHSYNC_TEST_MYSQL:-}" ] && ! my_ready; then
    if ! [ -x /usr/sbin/mariadbd ]; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "MariaDB is not installed: installing it with apt-get…" >&2
            as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null
        else
            echo "MariaDB is not installed. Install MariaDB 10.11+ or MySQL 8 with root@127.0.0.1 (empty password)" >&2
            echo "and a database 'test', or set BRANCHSYNC_TEST_MYSQL to a server of yours." >&2
            exit 1
        fi
    fi
    if ! as_root mysqladmin --protocol=socket -uroot status >/dev/null 2>&1; then
        as_root mkdir -p /run/mysqld
        as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
        as_root start-stop-daemon --start --oknodo --background --chuid mysql --exec /usr/sbin/mariadbd -- --user=mysql
        for _ in $(seq 1 30); do as_root mysqladmin --protocol=socket -uroot status >/dev/null 2>&1 && break; sleep 1; done
    fi
    # root over TCP from 127.0.0.1 with an empty password, and the test database.
    as_root mysql --protocol=socket -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
        GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        CREATE DATABASE IF NOT EXISTS test;" || true
    for _ in $(seq 1 30); do my_ready && break; sleep 1; done
    my_ready || { echo "MariaDB did not come up at $my_url" >&2; exit 1; }
fi

# Headless Chromium for the dashboard's browser test and pgbouncer for the
# pooler test (each test says it is skipped without its tool).
apt_install() { # PACKAGE WHAT
    command -v apt-get >/dev/null 2>&1 || return 0
    echo "$1 is not installed: installing it with apt-get for $2…" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 \
        || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
             && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null; } \
        || echo "could not install $1; $2 will be skipped" >&2
}
command -v chromium >/dev/null 2>&1 || apt_install chromium "the dashboard's browser test"
[ -x /usr/sbin/pgbouncer ] || apt_install pgbouncer "the pooler test"

export BRANCHSYNC_TEST_PG="$url"
export BRANCHSYNC_TEST_MYSQL="$my_url"
exec cargo test "$@"
