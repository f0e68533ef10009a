#!/usr/bin/env bash
# Compiles the contracts with the pinned solcjs (see compile.mjs); installs chain/node_modules first if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/solc ] || npm ci --no-audit --no-fund
exec node scripts/compile.mjs
