#!/usr/bin/env bash
# The test suite. Installs into .venv on first use. Extra arguments go to pytest.
# Two worker processes (pytest-xdist), one test file each at a time: the suite is mostly
# single-threaded, so on 2 cores this nearly halves its time. TEST_WORKERS=0 runs it in one
# process (as does `python -m pytest` by hand); a later `-n N` argument overrides it too.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
python -m pytest -q -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
