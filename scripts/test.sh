#!/usr/bin/env bash
# The whole test suite: lint, derived files, validation of every committed release, then every test. Installs what the tests need on first use.
set -euo pipefail
NEWSCORPUS_EXTRAS=test,spark  # the Spark engine's equivalence tests are part of the suite
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_java

ruff check .
ruff format --check .
newscorpus schema
newscorpus card --check
# The data gate: every committed release passes the Great Expectations suites.
for release in $(find corpus -mindepth 1 -maxdepth 1 -type d -name 'v*' | sort -V); do
  newscorpus validate "$release"
done
# The same gate on Spark prints the same report for the latest release.
latest=$(find corpus -mindepth 1 -maxdepth 1 -type d -name 'v*' | sort -V | tail -n 1)
diff <(newscorpus validate "$latest") <(newscorpus validate "$latest" --engine spark)
echo "$latest: the Spark engine's report is the pandas engine's"
python -m pytest "$@"
