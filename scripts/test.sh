#!/usr/bin/env bash
# The whole test suite: set-up, type check, lint, build, then jest against a
# real Temporal dev server and a real PostgreSQL that the suite starts itself.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests || exit 1
echo "[test] type check"; npm run --silent typecheck || exit 1
echo "[test] lint"; npm run --silent lint || exit 1
mkdir -p .data
npx jest --ci --json --outputFile=.data/jest-results.json "$@"
status=$?
node -e '
  const r = require("./.data/jest-results.json");
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' || true
exit $status
