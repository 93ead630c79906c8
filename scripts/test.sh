#!/usr/bin/env bash
# The whole test suite: lint, derived files, then every test (the data gate on every committed release among them).
# Installs what the tests need on first use.
set -euo pipefail
NEWSCORPUS_EXTRAS=test,spark  # the Spark engine's equivalence tests are part of the suite
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_java

# Chromium for the browser test (tests/labelstudio/test_browser.py), which Playwright drives by its
# path (Playwright's own browser download is never used): Debian's package where it is missing and
# this runs as root (as CI does); elsewhere a note says what to install.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    return 0
  fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Chromium (chromium) for the browser test ..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser test needs Chromium: install e.g. Debian's chromium (it skips without, fails with CI=true)" >&2
  fi
}
ensure_chromium

ruff check .
ruff format --check .
newscorpus schema
newscorpus card --check
# The data gate on every committed release, on both engines, is part of the tests
# (tests/test_validation.py, tests/test_validate_spark.py).
# Two workers (pytest-xdist): each starts its own Label Studio and Spark session when its tests need
# them; NEWSCORPUS_TEST_WORKERS=0 runs everything in one process.
python -m pytest -n "${NEWSCORPUS_TEST_WORKERS:-2}" "$@"
