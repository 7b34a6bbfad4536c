#!/usr/bin/env bash
# PostgreSQL beside SQLite (see BENCHMARKS.md): the end-to-end ingest of the same two
# 1,000,000-record monthly files into each backend, the floor of what PostgreSQL can do with the
# same rows (COPY of them as plain CSV into a table with the record table's columns and primary
# key), and report latency on each backend.
#
# The input is WORK_DIR/month-1.jsonl and month-2.jsonl, made by scripts/bench-ingest.sh (or
# scripts/bench-metro2.sh) when missing. The server is DATABASE_URL's (default: the local one);
# the script creates and drops a database `credit_registry_bench` on it.
#
# With SERVER=tuned, the script instead starts a private cluster (initdb in WORK_DIR, port 55433)
# configured the way a production server for a database of this size would be, rather than
# PostgreSQL's defaults, which are sized for a small machine: shared_buffers 4 GB (the default
# 128 MB holds an eighth of the 1 GB a first load writes, so every index probe goes through the
# kernel), max_wal_size 16 GB and a 30-minute checkpoint interval (with the default 1 GB a load
# checkpoints several times and writes every page it touches again as a full-page image).
#
# usage: [SERVER=default|tuned] scripts/bench-postgres.sh [RUNS] [WORK_DIR]
set -euo pipefail
runs=${1:-1}
work=${2:-/tmp/credit-registry-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/target/release/credit-registry"
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}

if [ "${SERVER:-default}" = tuned ]; then
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    cluster="$work/pg-tuned"
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    rm -rf "$cluster"; mkdir -p "$cluster"; [ "$(id -u)" = 0 ] && chown postgres "$cluster"
    as_pg "$pgbin/initdb" -A trust -U postgres -D "$cluster/data" > /dev/null
    as_pg "$pgbin/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w start -o \
        "-p 55433 -k $cluster -c listen_addresses=127.0.0.1 -c shared_buffers=4GB -c max_wal_size=16GB -c checkpoint_timeout=30min -c maintenance_work_mem=1GB" > /dev/null
    trap 'as_pg "$pgbin/pg_ctl" -D "$cluster/data" -m fast stop > /dev/null; rm -rf "$cluster"' EXIT
    server=postgres://postgres@127.0.0.1:55433/postgres
fi
url="${server%/*}/credit_registry_bench"
echo "server: ${SERVER:-default} ($(psql "$server" -Atc "SELECT 'shared_buffers ' || current_setting('shared_buffers') || ', max_wal_size ' || current_setting('max_wal_size')"))"

if [ ! -f "$work/month-2.jsonl" ]; then
    "$here/scripts/bench-ingest.sh" 0 "$work"
fi
(cd "$here" && cargo build --release --locked -p credit-registry >&2 && cargo build --release --locked -p registry-service --example report_latency >&2)
latency="$here/target/release/examples/report_latency"
records=$(grep -c '"account"' "$work/month-1.jsonl" || true)
echo "input: $work/month-1.jsonl ($records records), month-2.jsonl"

measure() { # label, command...: wall seconds, records/s, CPU seconds of this process, peak RSS
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
    read -r wall user sys rss < "$work/time.txt"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$records" \
        'BEGIN { printf "%-34s %7.2f s  %9.0f records/s  client cpu %6.2f s  peak RSS %6.1f MiB\n", l, w, n / w, u + s, r / 1024 }'
}

for run in $(seq "$runs"); do
    echo "run $run"
    rm -rf "$work/registry-sqlite" "$work/registry-pg"; sync
    measure "  sqlite first load" "$bin" ingest --furnisher bench "$work/month-1.jsonl" --data-dir "$work/registry-sqlite"
    # A second floor: every row a first load leaves behind (records, accounts, memberships,
    # subjects, identities, look-ups), written by COPY alone: `copy` of the SQLite registry.
    psql "$server" -qc "DROP DATABASE IF EXISTS credit_registry_bench_copy WITH (FORCE)" -c "CREATE DATABASE credit_registry_bench_copy"
    measure "  floor: copy of month 1's state" "$bin" copy --from "$work/registry-sqlite" --to "${server%/*}/credit_registry_bench_copy"
    psql "$server" -qc "DROP DATABASE credit_registry_bench_copy"
    measure "  sqlite steady state" "$bin" ingest --furnisher bench "$work/month-2.jsonl" --data-dir "$work/registry-sqlite"

    psql "$server" -qc "DROP DATABASE IF EXISTS credit_registry_bench WITH (FORCE)" -c "CREATE DATABASE credit_registry_bench"
    mkdir -p "$work/registry-pg"
    "$bin" registry-keys > "$work/registry-pg/config.toml"
    "$bin" migrate --data-dir "$work/registry-pg" --database-url "$url" > /dev/null
    measure "  postgres first load" "$bin" ingest --furnisher bench "$work/month-1.jsonl" --data-dir "$work/registry-pg" --database-url "$url"
    measure "  postgres steady state" "$bin" ingest --furnisher bench "$work/month-2.jsonl" --data-dir "$work/registry-pg" --database-url "$url"

    # The floor: month 1's record rows, as PostgreSQL stored them, copied back in as CSV.
    psql "$url" -qc "\\copy (SELECT * FROM record WHERE submission_key = (SELECT min(submission_key) FROM record)) TO '$work/records.csv' CSV"
    rows=$(wc -l < "$work/records.csv")
    psql "$url" -qc "DROP TABLE IF EXISTS record_floor" -c "CREATE TABLE record_floor (LIKE record INCLUDING ALL)"
    start=$(date +%s.%N)
    psql "$url" -qc "\\copy record_floor FROM '$work/records.csv' CSV"
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v n="$rows" -v b="$(stat -c %s "$work/records.csv")" \
        'BEGIN { printf "  %-32s %7.2f s  %9.0f rows/s  (%d rows, %.0f MB of CSV)\n", "floor: COPY of the same rows", e - s, n / (e - s), n, b / 1e6 }'
    psql "$url" -qc "DROP TABLE record_floor"

    echo "  report latency, sqlite:   $("$latency" "$work/registry-sqlite" 2000)"
    echo "  report latency, postgres: $("$latency" "$work/registry-pg" "$url" 2000)"
    psql "$url" -Atc "SELECT 'postgres database size: ' || pg_size_pretty(pg_database_size(current_database()))"
    echo "  sqlite database size: $(du -h "$work/registry-sqlite/registry.db" | cut -f1)"
done
psql "$server" -qc "DROP DATABASE IF EXISTS credit_registry_bench WITH (FORCE)"
