#!/usr/bin/env bash
# The test suite. Installs into .venv on first use. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
python -m pytest -q "$@"
