#!/usr/bin/env bash
# Run the test suite (sets the project up first when needed).
#   bash scripts/test.sh            everything
#   bash scripts/test.sh tests/unit any pytest arguments
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python -m pytest "$@"
