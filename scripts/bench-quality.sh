#!/usr/bin/env bash
# Data-quality benchmark (BENCHMARKS.md, "Data quality"), in two parts.
#
# 1. What evaluating a submission adds to its ingest: the steady-state month of
#    scripts/bench-ingest.sh (1,000,000 records on top of a first load of 1,000,000), ingested
#    by this build and by BEFORE_BIN (a build without the evaluators, e.g. of commit f8b9922),
#    alternately, each into a fresh registry of its own.
# 2. Evaluating the whole 7.5 million-record registry of the supervision benchmark
#    (scripts/bench-supervise.sh builds it; reused when WORK_DIR/registry exists), beside its
#    floor in the same run: SQLite reading every column of every record, on one thread.
#
# usage: scripts/bench-quality.sh RUNS BEFORE_BIN [INGEST_WORK_DIR] [REGISTRY_WORK_DIR]
#   BEFORE_BIN: a credit-registry binary built without the evaluators, or "-" to skip part 1
set -euo pipefail
runs=${1:-3}
before=${2:--}
ingest_work=${3:-/tmp/credit-registry-bench}
registry_work=${4:-/tmp/credit-registry-bench-supervise}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/credit-registry"
cargo build --release --locked -p credit-registry --manifest-path "$root/Cargo.toml" >&2

measure() { # label, command...: wall seconds, CPU seconds, peak RSS and peak anonymous memory
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$ingest_work/time.txt" "$@" > /dev/null 2> "$ingest_work/stderr.txt" &
    local timer=$! anon=0 pid="" key value
    # RSS counts the database pages a reader maps; RssAnon is the memory the process allocates.
    # Sampled with shell builtins only, every 0.1 s, so the sampling costs next to nothing.
    while kill -0 "$timer" 2> /dev/null; do
        [ -n "$pid" ] || pid=$(pgrep -P "$timer" | head -1 || true)
        if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
            while read -r key value _; do
                if [ "$key" = "RssAnon:" ] && [ "$value" -gt "$anon" ]; then anon=$value; fi
            done < "/proc/$pid/status" 2> /dev/null || true
        fi
        sleep 0.1
    done
    wait "$timer"
    read -r wall user sys rss < "$ingest_work/time.txt"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v a="$anon" \
        'BEGIN { printf "%-34s %7.2f s  cpu %6.2f s  peak RSS %6.1f MiB, of it allocated (RssAnon) %6.1f MiB\n", l, w, u + s, r / 1024, a / 1024 }'
}

if [ "$before" != "-" ]; then
    mkdir -p "$ingest_work"
    [ -f "$ingest_work/month-2.jsonl" ] || "$root/scripts/bench-ingest.sh" 0 "$ingest_work" > /dev/null
    echo "part 1: steady-state ingest of 1,000,000 records, before (no evaluators) and after"
    for run in $(seq "$runs"); do
        for side in before after; do
            exe=$bin; [ "$side" = before ] && exe=$before
            rm -rf "$ingest_work/registry-$side"; sync
            "$exe" report --registry-id S1 --data-dir "$ingest_work/registry-$side" > /dev/null 2>&1 || true
            "$exe" ingest --furnisher bench "$ingest_work/month-1.jsonl" --data-dir "$ingest_work/registry-$side" > /dev/null
            sync
            CREDIT_REGISTRY_LOG=info measure "  run $run, $side" \
                "$exe" ingest --furnisher bench "$ingest_work/month-2.jsonl" --data-dir "$ingest_work/registry-$side"
            grep -o 'archived_ms.*' "$ingest_work/stderr.txt" | sed 's/^/      /' || true
        done
    done
    findings=$(sqlite3 "$ingest_work/registry-after/registry.db" "SELECT count(*) FROM finding" 2> /dev/null || echo "?")
    echo "  findings stored by the last steady-state ingest and the first load before it: $findings"
fi

echo "part 2: the whole registry evaluated again (credit-registry quality --limit 0)"
[ -f "$registry_work/registry/registry.db" ] || "$root/scripts/synthetic-registry.sh" 100000 24 2026-10 "$registry_work" 11
db="$registry_work/registry/registry.db"
echo "  records: $(sqlite3 "$db" 'SELECT count(*) FROM record'), accounts: $(sqlite3 "$db" 'SELECT count(*) FROM account')"
# The scan reads every column of each record (the evaluators look at all of them).
columns="count(*), sum(balance), sum(past_due), sum(coalesce(original_amount, 0) + coalesce(credit_limit, 0)), \
    sum(coalesce(term_months, 0) + coalesce(scheduled_payment, 0) + coalesce(actual_payment, 0)), \
    sum(length(payment_history) + length(subjects) + length(coalesce(funding, '')) + length(coalesce(special_comment, ''))), \
    max(as_of), max(opened), max(closed), max(status), max(product), max(currency), max(first_delinquency), \
    max(last_payment), max(dispute)"
for run in $(seq "$runs"); do
    /usr/bin/time -f "  run $run, floor: SQLite reading the evaluators' columns of every record (1 thread): %e s" \
        sqlite3 "$db" "PRAGMA mmap_size=1099511627776; SELECT $columns FROM record" > /dev/null
    /usr/bin/time -f "  run $run, quality: %e s wall, %U s user, %M KiB peak (mapped file pages included)" \
        "$bin" quality --limit 0 --data-dir "$registry_work/registry" > "$registry_work/quality.txt"
done
head -1 "$registry_work/quality.txt"
