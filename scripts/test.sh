#!/usr/bin/env bash
# Set up a virtual environment with every optional part and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[all]'
exec .venv/bin/python -m pytest -p no:cacheprovider -rs "$@"
