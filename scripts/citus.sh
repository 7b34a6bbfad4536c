#!/usr/bin/env bash
# A local Citus cluster (docs/scale-out.md): a coordinator and two workers, each an ordinary
# PostgreSQL 15 instance that loads the extension, on loopback ports under a work directory of
# their own. Citus is built from ../shared/vendor/citus when PostgreSQL does not have it.
#
# usage: scripts/citus.sh up        build if needed, start and join the nodes; prints the
#                                   coordinator's postgres:// URL as its last line
#        scripts/citus.sh fresh-db  a new database with the extension on every node, the workers
#                                   joined; prints its URL as its last line
#        scripts/citus.sh down      stop the nodes
# Safe to run twice. Settings: CITUS_DIR (default /tmp/credit-registry-citus), CITUS_PORT (the
# coordinator's, default 9700; the workers take the next two), CITUS_SOURCE (the vendored
# archive's directory, default ../shared/vendor/citus beside the checkout).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CITUS_DIR:-/tmp/credit-registry-citus}
port=${CITUS_PORT:-9700}
source_dir=${CITUS_SOURCE:-$root/../shared/vendor/citus}
bin=/usr/lib/postgresql/15/bin
ports=("$port" "$((port + 1))" "$((port + 2))")
names=(coordinator worker1 worker2)

# Commands as the postgres user when run as root (initdb refuses root).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_on() { # port, database, sql...
    local p=$1 db=$2; shift 2
    as_postgres env PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U postgres -d "$db" "$@"
}

build() {
    [ -f /usr/lib/postgresql/15/lib/citus.so ] && return
    echo "building Citus from $source_dir (1-2 minutes)" >&2
    (cd "$source_dir" && sha256sum -c --quiet SHA256SUMS)
    local packages="postgresql-server-dev-15 liblz4-dev libzstd-dev libkrb5-dev libssl-dev make gcc"
    # shellcheck disable=SC2086
    if ! dpkg -s $packages > /dev/null 2>&1; then
        local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        # shellcheck disable=SC2086
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages > /dev/null
    fi
    local build; build=$(mktemp -d)
    tar -xzf "$source_dir"/citus-*.tar.gz -C "$build"
    (cd "$build"/citus-* && ./configure --without-libcurl > /dev/null && make -s -j"$(nproc)" > "$build/make.log" 2>&1 && make -s install > /dev/null) ||
        { tail -20 "$build/make.log" >&2; exit 1; }
    rm -rf "$build"
}

start_node() { # index
    local name=${names[$1]} p=${ports[$1]}
    local data="$dir/$name"
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$dir" && chown postgres: "$dir" 2> /dev/null || true
        as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust > /dev/null
        cat >> "$data/postgresql.conf" <<CONF
shared_preload_libraries = 'citus'
listen_addresses = '127.0.0.1'
port = $p
unix_socket_directories = '$dir'
max_connections = 200
max_prepared_transactions = 200
# Citus runs a maintenance worker per database; the tests make many databases.
max_worker_processes = 128
fsync = on
CONF
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$data" status > /dev/null 2>&1; then
        as_postgres "$bin/pg_ctl" -D "$data" -l "$dir/$name.log" -w start > /dev/null
    fi
}

# The extension in `db` on every node, and the workers joined to the coordinator's `db`.
join() { # database
    local db=$1
    for i in 0 1 2; do psql_on "${ports[$i]}" "$db" -c "CREATE EXTENSION IF NOT EXISTS citus" > /dev/null; done
    psql_on "$port" "$db" -c "SELECT citus_set_coordinator_host('127.0.0.1', $port)" > /dev/null
    for i in 1 2; do
        psql_on "$port" "$db" -tA -c "SELECT 1 FROM pg_dist_node WHERE nodeport = ${ports[$i]}" | grep -q 1 ||
            psql_on "$port" "$db" -c "SELECT citus_add_node('127.0.0.1', ${ports[$i]})" > /dev/null
    done
}

case "${1:-}" in
    up)
        build
        for i in 0 1 2; do start_node "$i"; done
        join postgres
        echo "postgres://postgres@127.0.0.1:$port/postgres"
        ;;
    fresh-db)
        db="registry_$(date +%s)_$$"
        for i in 0 1 2; do psql_on "${ports[$i]}" postgres -c "CREATE DATABASE $db" > /dev/null; done
        join "$db"
        echo "postgres://postgres@127.0.0.1:$port/$db"
        ;;
    down)
        for i in 2 1 0; do
            data="$dir/${names[$i]}"
            [ -f "$data/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$data" -m fast -w stop > /dev/null 2>&1 || true
        done
        ;;
    *)
        echo "usage: $0 up | fresh-db | down" >&2
        exit 64
        ;;
esac
