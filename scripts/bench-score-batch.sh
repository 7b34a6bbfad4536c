#!/usr/bin/env bash
# Batch scoring benchmark (BENCHMARKS.md, "Batch scoring"): 100,000 people over 24 months of the
# synthetic market in the embedded store, every subject scored as of the last month, beside two
# floors read from the same database in the same run: SQLite reading the records in the order
# scoring needs them (by subject; two columns only), and reading the record table straight
# through. Then `compact` (records in account order) and the same again. A registry built by an
# earlier run is reused: its first round is then already compacted. Needs sqlite3
# (apt-get install sqlite3).
#
# usage: scripts/bench-score-batch.sh [WORK_DIR] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/credit-registry-bench-score}
runs=${2:-2}
bin="$root/target/release/credit-registry"
cargo build --release -p credit-registry --manifest-path "$root/Cargo.toml"
[ -f "$work/registry/registry.db" ] || "$root/scripts/synthetic-registry.sh" 100000 24 2026-10 "$work" 11
db="$work/registry/registry.db"
echo "records: $(sqlite3 "$db" 'SELECT count(*) FROM record'), subjects: $(sqlite3 "$db" 'SELECT count(*) FROM subject')"
measure() {
    echo "$1"
    /usr/bin/time -f "  floor, records by subject (2 columns, 1 thread): %e s" sqlite3 "$db" \
        "PRAGMA mmap_size=1099511627776; SELECT sum(length(r.subjects) + r.balance) FROM account_subject m \
         JOIN account a ON a.account_key = m.account_key JOIN record r ON r.account_key = m.account_key \
         ORDER BY m.subject_key, m.account_key, r.as_of" > /dev/null
    /usr/bin/time -f "  floor, record table straight through (2 columns): %e s" sqlite3 "$db" \
        "PRAGMA mmap_size=1099511627776; SELECT sum(length(subjects) + balance) FROM record" > /dev/null
    /usr/bin/time -f "  score batch: %e s wall, %U s user, %M KiB peak (mapped file pages included)" \
        "$bin" score batch --as-of 2026-10-31 --out "$work/scores.csv" --data-dir "$work/registry"
}
for run in $(seq "$runs"); do
    measure "run $run, as ingested (or as an earlier run left it)"
done
/usr/bin/time -f "  compact: %e s, %M KiB peak" "$bin" compact --data-dir "$work/registry"
for run in $(seq "$runs"); do
    measure "run $run, compacted"
done
