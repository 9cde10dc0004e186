# Sourced by demo.sh and test.sh: use the active virtualenv, or create and activate .venv,
# then install wildworld with every extra. torch==2.13.0 is installed first so that pip does
# not pull a multi-GB CUDA build for the project's `torch>=2.2` requirement.
set -euo pipefail
if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv" >&2
    python3 -m venv .venv
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
fi
stamp="$VIRTUAL_ENV/.wildworld-install-$(python -c 'import hashlib,sys;print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest()[:16])')"
if [ ! -f "$stamp" ]; then
  echo "installing wildworld into $VIRTUAL_ENV (first run only)" >&2
  python -m pip install -q --upgrade pip
  python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[dev,sfm,ray,view]"
  touch "$stamp"
fi
