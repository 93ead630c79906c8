# Sourced by main.sh and test.sh: make .venv with the package and its pinned dependencies.
# Re-installs only when pyproject.toml or constraints.txt changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "newscorpus needs Python >= 3.11 with venv as '$PYTHON' (set PYTHON=... to choose another)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.newscorpus-installed
extras="${NEWSCORPUS_EXTRAS:-test}"  # test.sh adds spark
wanted=$( (cat pyproject.toml constraints.txt; echo "$extras") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "installing newscorpus and its dependencies ($extras) into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$extras]"
  echo "$wanted" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"

# Java 17 or newer, which the Spark engine (pyspark 4) needs: from Debian's packages where it is
# missing or older and this runs as root (as CI does); elsewhere a note says what to install.
ensure_java() {
  local major
  major=$( (java -version 2>&1 || true) | sed -n 's/.* version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  if [ "${major:-0}" -ge 17 ]; then
    return 0
  fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Java 17 (openjdk-17-jre-headless) for the Spark engine ..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "the Spark engine needs Java 17 or newer (found: ${major:-none}): install e.g. openjdk-17-jre-headless" >&2
  fi
}
