#!/usr/bin/env bash
# Trains the score model shipped with the registry (crates/registry-service/models/) on the
# synthetic market's history: 20,000 people over 36 months (2023-11 to 2026-10), attributes as
# of 2025-10-31, bad = 90+ days past due within the next 12 months. Deterministic: the same
# build gives the same model. An operator retrains on real data with
# `credit-registry score train --from-registry` and configures `score_model`.
#
# usage: scripts/train-default-model.sh [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
"$root/scripts/synthetic-registry.sh" 20000 36 2026-10 "$work" 7
"$root/target/release/credit-registry" score train --from-registry --as-of 2025-10-31 --horizon-months 12 \
    --folds 5 --model-id synthetic-default-v1 --data-dir "$work/registry" \
    --sample-out "$work/sample.csv" --out "$root/crates/registry-service/models/default.json"
echo "development sample: $work/sample.csv" >&2
