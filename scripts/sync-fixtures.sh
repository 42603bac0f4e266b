#!/usr/bin/env bash
# Refreshes test/golden from the shared fixtures folder beside the checkout
# (../shared/fixtures), so a fresh clone without it still has the oracle.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/fixtures}
[ -d "$src" ] || { echo "sync-fixtures: $src not found" >&2; exit 1; }
rm -f test/golden/*.json test/golden/grad/*.json
mkdir -p test/golden/grad
cp "$src"/*.json "$src"/SPEC.md test/golden/
cp "$src"/grad/*.json test/golden/grad/
echo "sync-fixtures: $(ls test/golden/*.json test/golden/grad/*.json | wc -l) files from $src"
