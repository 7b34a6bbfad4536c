#!/usr/bin/env bash
# End-to-end ingest benchmark on the embedded store (see BENCHMARKS.md).
#
# Generates a synthetic market once (two monthly cycles of about a million accounts, all
# furnishers in one file per month), cuts each month to exactly 1,000,000 records, then for
# each run: ingests month 1 into an empty registry (first load: every account, person and
# identity is new) and month 2 on top (steady state: the same accounts a month later).
# Beside it, the floors: reading the file, and SQLite's own bulk loader (.import) taking the
# same rows into a table with the same columns and key.
#
# usage: scripts/bench-ingest.sh [RUNS] [WORK_DIR]
set -euo pipefail
runs=${1:-3}
work=${2:-/tmp/credit-registry-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/target/release/credit-registry"
records=1000000

(cd "$here" && cargo build --release --locked -p credit-registry >&2)
mkdir -p "$work"
if [ ! -f "$work/month-2.jsonl" ]; then
    "$bin" generate --subjects 321000 --months 2 --end-month 2026-10 --warmup-months 24 \
        --invalid-share 0 --layout combined --seed 1 --out "$work/generated" >&2
    head -n "$records" "$work/generated/all/all-2026-09.jsonl" > "$work/month-1.jsonl"
    head -n "$records" "$work/generated/all/all-2026-10.jsonl" > "$work/month-2.jsonl"
fi
bytes=$(stat -c %s "$work/month-1.jsonl")
echo "input: $records records, $bytes bytes per month file ($((bytes / records)) bytes/record)"

measure() { # label, command...: prints wall seconds, CPU seconds, peak RSS
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" > /dev/null 2>&1
    read -r wall user sys rss < "$work/time.txt"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$records" \
        'BEGIN { printf "%-22s %7.2f s  %9.0f records/s  cpu %6.2f s  peak RSS %6.1f MiB\n", l, w, n / w, u + s, r / 1024 }'
}

for run in $(seq "$runs"); do
    echo "run $run"
    rm -rf "$work/registry"; sync
    "$bin" report --registry-id S1 --data-dir "$work/registry" > /dev/null 2>&1 || true   # create keys and schema
    measure "  ingest first load" "$bin" ingest --furnisher bench "$work/month-1.jsonl" --data-dir "$work/registry"
    measure "  ingest steady state" "$bin" ingest --furnisher bench "$work/month-2.jsonl" --data-dir "$work/registry"
done

echo "floors"
measure "  read the file" cat "$work/month-1.jsonl"
# SQLite's floor copies the rows of a registry a run made (none with RUNS=0: inputs only).
if [ "$runs" -gt 0 ] && command -v sqlite3 > /dev/null; then
    sqlite3 -csv "$work/registry/registry.db" "SELECT * FROM record WHERE submission_key = 1" > "$work/records.csv"
    schema=$(sqlite3 "$work/registry/registry.db" "SELECT sql || ';' FROM sqlite_schema WHERE tbl_name = 'record' AND sql IS NOT NULL")
    rm -f "$work/floor.db"*
    sqlite3 "$work/floor.db" "PRAGMA journal_mode = WAL;" "$schema" > /dev/null
    measure "  sqlite3 .import rows" sqlite3 "$work/floor.db" "PRAGMA synchronous = FULL;" ".import --csv $work/records.csv record"
    echo "  ($(sqlite3 "$work/floor.db" 'SELECT count(*) FROM record') rows imported)"
fi
