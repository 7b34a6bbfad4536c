#!/usr/bin/env bash
# Metro 2 benchmark (see BENCHMARKS.md): parse + validate throughput on a 1,000,000-record
# character file, on one thread and on every core, with peak memory; then the end-to-end
# ingest of that file beside the JSON Lines file of the same records.
#
# The input is made once with the registry's own tools: the synthetic US market (two monthly
# cycles, all furnishers in one file per month) as JSON Lines, each month cut to exactly
# 1,000,000 records and ingested into a scratch registry, then exported from it as Metro 2 and
# as JSON Lines: two files of the same records in the same order.
#
# usage: scripts/bench-metro2.sh [RUNS] [WORK_DIR]
set -euo pipefail
runs=${1:-3}
work=${2:-/tmp/credit-registry-bench-metro2}
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/target/release/credit-registry"
records=1000000

(cd "$here" && cargo build --release --locked -p credit-registry >&2)
mkdir -p "$work"
if [ ! -f "$work/month-2.metro2" ]; then
    "$bin" generate --subjects 321000 --months 2 --end-month 2026-10 --warmup-months 24 \
        --invalid-share 0 --layout combined --seed 1 --market us --out "$work/generated" >&2
    for month in 1 2; do
        name=$([ "$month" = 1 ] && echo 2026-09 || echo 2026-10)
        head -n "$records" "$work/generated/all/all-$name.jsonl" > "$work/source-$month.jsonl"
        "$bin" ingest --furnisher bench "$work/source-$month.jsonl" --data-dir "$work/source" >&2
        "$bin" export --furnisher bench --as-of "$name-01" --format metro2 --out "$work/month-$month.metro2" --data-dir "$work/source"
        "$bin" export --furnisher bench --as-of "$name-01" --format jsonl --out "$work/month-$month.jsonl" --data-dir "$work/source"
    done
fi
records_of() { # a Metro 2 file's data records
    "$bin" metro2 validate "$1" --json | grep -o '"data_records":[0-9]*' | head -1 | cut -d: -f2
}
file="$work/month-1.metro2"
count=$(records_of "$file")
count2=$(records_of "$work/month-2.metro2")
bytes=$(stat -c %s "$file")
echo "input: month 1 $count data records, $bytes bytes ($((bytes / count)) bytes/record), JSON Lines of the same $(stat -c %s "$work/month-1.jsonl") bytes; month 2 $count2 records"

measure() { # label, records, bytes, command...: prints wall seconds, MB/s, records/s, CPU seconds, peak RSS
    local label=$1 n=$2 b=$3; shift 3
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" > /dev/null 2>&1 || true
    read -r wall user sys rss < "$work/time.txt"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$n" -v b="$b" \
        'BEGIN { printf "%-28s %6.2f s  %7.0f MB/s  %9.0f records/s  cpu %6.2f s  peak RSS %6.1f MiB\n", l, w, b / w / 1e6, n / w, u + s, r / 1024 }'
}

for run in $(seq "$runs"); do
    echo "run $run"
    measure "  read the file (floor)" "$count" "$bytes" cat "$file"
    measure "  validate, 1 thread" "$count" "$bytes" "$bin" metro2 validate "$file" --threads 1
    measure "  validate, 2 threads" "$count" "$bytes" "$bin" metro2 validate "$file" --threads 2
    for format in metro2 jsonl; do
        rm -rf "$work/registry-$format"; sync
        "$bin" report --registry-id S1 --data-dir "$work/registry-$format" > /dev/null 2>&1 || true   # keys and schema
        measure "  ingest $format first load" "$count" "$(stat -c %s "$work/month-1.$format")" \
            "$bin" ingest --furnisher bench "$work/month-1.$format" --data-dir "$work/registry-$format"
        measure "  ingest $format steady" "$count2" "$(stat -c %s "$work/month-2.$format")" \
            "$bin" ingest --furnisher bench "$work/month-2.$format" --data-dir "$work/registry-$format"
    done
done
