#!/usr/bin/env bash
# Supervision benchmark (BENCHMARKS.md, "Supervision"): all four sections of a month of the
# 100,000-person, 24-month synthetic market (about 7.5 million records), in the embedded store
# and on PostgreSQL, each beside its floor read from the same database in the same run: the
# database reading the record columns the measures use, alone (SQLite: the record table
# straight through; PostgreSQL: the same sums over its record table). The embedded registry is
# measured as ingested, then after `compact`. The PostgreSQL registry is a `copy` of the
# embedded one into a database of its own, analysed before it is measured. A registry built by
# an earlier run is reused. Needs sqlite3 and psql.
#
# usage: scripts/bench-supervise.sh [WORK_DIR] [RUNS] [POSTGRES_URL]
#   POSTGRES_URL: a server where the script may create and drop a database
#   [default: $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/credit-registry-bench-supervise}
runs=${2:-3}
server=${3:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}
bin="$root/target/release/credit-registry"
month=2026-10
cargo build --release --locked -p credit-registry --manifest-path "$root/Cargo.toml"
[ -f "$work/registry/registry.db" ] || "$root/scripts/synthetic-registry.sh" 100000 24 "$month" "$work" 11
db="$work/registry/registry.db"
echo "records: $(sqlite3 "$db" 'SELECT count(*) FROM record'), subjects: $(sqlite3 "$db" 'SELECT count(*) FROM subject')"

columns="count(*), sum(balance), sum(past_due), sum(coalesce(original_amount, 0) + coalesce(credit_limit, 0)), \
    sum(length(subjects)), sum(length(coalesce(funding, ''))), max(as_of), max(opened), max(closed), max(status), max(product), max(currency)"
embedded() {
    echo "$1"
    /usr/bin/time -f "  floor, SQLite reading the measures' columns of every record (1 thread): %e s" \
        sqlite3 "$db" "PRAGMA mmap_size=1099511627776; SELECT $columns FROM record" > /dev/null
    /usr/bin/time -f "  supervise, all four sections: %e s wall, %U s user, %M KiB peak (mapped file pages included)" \
        "$bin" supervise --month "$month" --json --data-dir "$work/registry" > "$work/embedded.json"
}
for run in $(seq "$runs"); do embedded "embedded, run $run (as ingested, or as an earlier run left it)"; done
/usr/bin/time -f "  compact: %e s" "$bin" compact --data-dir "$work/registry"
for run in $(seq "$runs"); do embedded "embedded, run $run, compacted"; done

# PostgreSQL: a database of its own, the embedded registry copied in, keys configured.
name=credit_registry_bench_supervise
url="${server%/*}/$name"
psql -q "$server" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
"$bin" copy --from "$work/registry" --to "$url" --json > "$work/copy.json"
mkdir -p "$work/postgres"
python3 - "$work/copy.json" > "$work/postgres/config.toml" <<'PY'
import json, sys
keys = json.load(open(sys.argv[1]))["keys"]
for name in ("identifier_hash_key", "data_encryption_key", "log_signing_key"):
    print(f'{name} = "{keys[name]}"')
PY
psql -q "$url" -c "VACUUM ANALYZE"
for run in $(seq "$runs"); do
    echo "postgresql, run $run"
    /usr/bin/time -f "  floor, PostgreSQL reading the measures' columns of every record: %e s" \
        psql -q "$url" -c "SELECT $columns FROM record" > /dev/null
    /usr/bin/time -f "  supervise, all four sections: %e s wall, %U s user (the client), %M KiB peak" \
        "$bin" --database-url "$url" supervise --month "$month" --json --data-dir "$work/postgres" > "$work/postgres.json"
done
cmp "$work/embedded.json" "$work/postgres.json" && echo "the two documents are the same, byte for byte"
psql -q "$server" -c "DROP DATABASE IF EXISTS $name"
