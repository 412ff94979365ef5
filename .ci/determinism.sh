#!/usr/bin/env bash
# Runs the example backtest twice with different hash seeds and fails if any output digest
# differs. Outputs go to a temporary folder; the store is generated fresh for each run.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for seed in 1 2; do
  SIMCORE_STORE="$work/store$seed" PYTHONHASHSEED=$seed \
    simcore backtest configs/example_backtest.json --out "$work/run$seed" > "$work/log$seed" 2>&1 \
    || { cat "$work/log$seed"; exit 1; }
done
if cmp -s "$work/run1/manifest.json" "$work/run2/manifest.json"; then
  echo "determinism: identical manifests (PYTHONHASHSEED 1 and 2, stores generated separately)"
else
  echo "determinism: outputs differ between runs"
  diff "$work/run1/manifest.json" "$work/run2/manifest.json" || true
  exit 1
fi
