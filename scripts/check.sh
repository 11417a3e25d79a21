#!/usr/bin/env bash
# Static checks of the infrastructure: synthesize with the CDK CLI (the only
# way cdk.json's feature flags apply), then cfn-lint, the IAM least-privilege check
# (scripts/iam_check.py) and checkov on cdk.out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --checkov
source scripts/lib.sh

echo "== cdk synth"
rm -rf cdk.out
cdk synth --quiet
ls cdk.out/*.template.json

echo "== cfn-lint"
set +e
.venv/bin/cfn-lint cdk.out/*.template.json
rc=$?
set -e
# cfn-lint's exit code is a bit mask: 1 fatal, 2 error, 4 warning, 8 info.
# Warnings are reported above; only fatal errors and errors fail the check.
if (( rc & 3 )); then echo "cfn-lint: errors found" >&2; exit 1; fi
echo "cfn-lint: 0 errors"

echo "== iam check"; .venv/bin/python scripts/iam_check.py --quiet

echo "== checkov"
.venv-checkov/bin/checkov --config-file checkov.yaml
