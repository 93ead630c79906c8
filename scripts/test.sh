#!/usr/bin/env bash
# The whole test suite: lint, derived files, then every test. Installs what the tests need on first use.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

ruff check .
ruff format --check .
newscorpus schema
newscorpus card --check
python -m pytest "$@"
