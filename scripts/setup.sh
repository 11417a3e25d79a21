#!/usr/bin/env bash
# Idempotent project setup: the Python virtual environment (.venv) and the
# pinned CDK CLI (node_modules). Re-installs only when requirements.txt or
# package-lock.json changed since the last run.
#   scripts/setup.sh              app + tests environment and CDK CLI
#   scripts/setup.sh --checkov    also checkov in its own .venv-checkov
#   scripts/setup.sh --gates      also the hardening gates' tools: schemathesis and
#                                 parliament in .venv-gates, asl-validator in
#                                 tools/asl-validator/node_modules
set -euo pipefail
cd "$(dirname "$0")/.."

want_checkov=false
want_gates=false
for arg in "$@"; do
  case "$arg" in
    --checkov) want_checkov=true ;;
    --gates) want_gates=true ;;
    *) echo "setup.sh: unknown option '$arg' (allowed: --checkov, --gates)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup.sh: Python 3.11 or newer is required ('$python' is $("$python" --version 2>&1))" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "setup.sh: Node.js and npm are required for the CDK CLI" >&2; exit 1; }

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }

venv() {  # venv DIR REQUIREMENTS
  local dir=$1 requirements=$2 want
  want=$(stamp "$requirements")
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements-stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  echo "setup: installing $requirements into $dir"
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$dir/.requirements-stamp"
}

venv .venv requirements.txt
$want_checkov && venv .venv-checkov requirements-checkov.txt
$want_gates && venv .venv-gates requirements-gates.txt

want=$(stamp package-lock.json)
if [ ! -x node_modules/.bin/cdk ] || [ "$(cat node_modules/.lock-stamp 2>/dev/null)" != "$want" ]; then
  echo "setup: installing the pinned CDK CLI (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true
  [ -x node_modules/.bin/cdk ] || { echo "setup.sh: npm ci did not install the CDK CLI" >&2; exit 1; }
  echo "$want" > node_modules/.lock-stamp
fi

if $want_gates; then
  tools=tools/asl-validator
  want=$(stamp "$tools/package-lock.json")
  if [ ! -x "$tools/node_modules/.bin/asl-validator" ] || [ "$(cat "$tools/node_modules/.lock-stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing the pinned asl-validator (npm ci in $tools)"
    npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config "nodedir"' || true
    [ -x "$tools/node_modules/.bin/asl-validator" ] || { echo "setup.sh: npm ci did not install asl-validator" >&2; exit 1; }
    echo "$want" > "$tools/node_modules/.lock-stamp"
  fi
fi
