#!/usr/bin/env bash
# The demo: set-up (idempotent), then Shipshape on a simulated fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/scripts/demo.js
