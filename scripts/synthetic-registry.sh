#!/usr/bin/env bash
# Builds a registry from the synthetic market: generates SUBJECTS people over MONTHS monthly
# cycles ending END_MONTH (seed SEED, no broken records) and ingests every file in the
# manifest's order into WORK_DIR/registry. What the default score model is trained on
# (scripts/train-default-model.sh) and what batch scoring is measured on (BENCHMARKS.md).
#
# usage: scripts/synthetic-registry.sh SUBJECTS MONTHS END_MONTH WORK_DIR [SEED]
set -euo pipefail
subjects=$1 months=$2 end_month=$3 work=$4 seed=${5:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/credit-registry"
[ -x "$bin" ] || cargo build --release -p credit-registry --manifest-path "$root/Cargo.toml"
mkdir -p "$work"
"$bin" generate --subjects "$subjects" --months "$months" --end-month "$end_month" --seed "$seed" \
    --invalid-share 0 --out "$work/files" --data-dir "$work/registry"
python3 - "$work/files/manifest.json" > "$work/ingest-order.txt" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    print(f["furnisher"], f["path"])
PY
count=0 total=$(wc -l < "$work/ingest-order.txt")
while read -r furnisher path; do
    "$bin" ingest --furnisher "$furnisher" "$work/files/$path" --data-dir "$work/registry" --json > /dev/null
    count=$((count + 1))
    if [ -t 2 ]; then printf "\ringested %d/%d files" "$count" "$total" >&2; fi
done < "$work/ingest-order.txt"
echo "ingested $count files into $work/registry" >&2
