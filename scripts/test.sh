#!/usr/bin/env bash
# Run the test suite (sets the project up first when needed).
#   bash scripts/test.sh             everything
#   bash scripts/test.sh tests/unit  any pytest arguments: one pytest run
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PYTHONDONTWRITEBYTECODE=1
pytest=(.venv/bin/python -m pytest)

if [ $# -gt 0 ]; then
  exec "${pytest[@]}" "$@"
fi
# The local cloud's tests run its server inside the pytest process, which
# patches moto process-wide: they get a pytest process of their own so the
# in-memory moto tests of the other folders see moto unpatched.
"${pytest[@]}" --ignore=tests/local --ignore=tests/e2e
"${pytest[@]}" tests/local
if [ -d tests/e2e ]; then
  "${pytest[@]}" tests/e2e
fi
