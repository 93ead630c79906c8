#!/usr/bin/env bash
# The main job: verify and validate every committed release, rebuild the latest from the
# inputs in the repository and check it byte for byte, and load it with datasets.load_dataset.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

newscorpus schema
releases=$(find corpus -mindepth 1 -maxdepth 1 -type d -name 'v*' | sort -V)
if [ -z "$releases" ]; then
  echo "no release in corpus/ yet: build one with 'newscorpus build --version X.Y.Z'" >&2
  exit 1
fi
for release in $releases; do
  echo "== $release"
  newscorpus verify "$release"
  newscorpus validate "$release"
done
latest=$(echo "$releases" | tail -n 1)
echo "== rebuilding $latest from the inputs its manifest records"
newscorpus reproduce "$latest"
echo "== loading $latest with datasets.load_dataset"
HF_DATASETS_DISABLE_PROGRESS_BARS=1 newscorpus show "$latest"
