#!/usr/bin/env bash
# The whole test suite: set-up, type check, lint, build, then jest against a
# real Temporal dev server and a real PostgreSQL that the suite starts itself.
# Two phases: everything else first, then the OpenStack tests, which start the
# project's test cloud (test/openstack/) and would slow the others down.
# With arguments, jest runs once with them (one file, a pattern, ...).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests || exit 1
echo "[test] type check"; npm run --silent typecheck || exit 1
echo "[test] lint"; npm run --silent lint || exit 1
mkdir -p .data
rm -f .data/jest-*.json
if [ $# -gt 0 ]; then
  npx jest --ci --json --outputFile=.data/jest-results.json "$@"
  status=$?
else
  echo "[test] phase 1: everything but the OpenStack cloud"
  npx jest --ci --json --outputFile=.data/jest-results.json --testPathIgnorePatterns '/node_modules/' '/test/openstack/'
  status=$?
  echo "[test] phase 2: the OpenStack provider and compliance against the test cloud"
  # One file at a time: the files share the one test cloud, set scenes on it and stop it when they end.
  npx jest --ci --runInBand --json --outputFile=.data/jest-openstack.json test/openstack
  status2=$?
  [ $status -eq 0 ] && status=$status2
fi
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of [".data/jest-results.json", ".data/jest-openstack.json"]) {
    if (!fs.existsSync(f)) continue;
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' || true
exit $status
