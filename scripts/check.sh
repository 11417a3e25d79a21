#!/usr/bin/env bash
# The static checks and hardening gates of the infrastructure:
#   1. cdk synth with the CDK CLI (the only way cdk.json's feature flags apply),
#      with cdk-nag's AwsSolutions pack (-c nag=true): a finding aborts it;
#   2. cfn-lint (0 errors), the IAM least-privilege check (scripts/iam_check.py)
#      and checkov (0 failed) on cdk.out;
#   3. every state machine definition passes asl-validator (scripts/asl_check.py);
#   4. parliament on every IAM policy: 0 findings above LOW (scripts/iam_policies.py);
#   5. schemathesis against the API on a local cloud of its own (scripts/fuzz.sh),
#      unless CHECK_FUZZ=false.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --checkov --gates
source scripts/lib.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PYTHONDONTWRITEBYTECODE=1

echo "== cdk synth, with cdk-nag's AwsSolutions pack"
rm -rf cdk.out
if ! cdk synth --quiet -c nag=true > .cdk-synth.log 2>&1; then
  grep -E '^(ERROR|WARNING)|Acknowledge with|^   [A-Za-z]' .cdk-synth.log | head -120 >&2 || tail -60 .cdk-synth.log >&2
  echo "cdk synth failed (cdk-nag findings above, report: cdk.out/validation-report.json)" >&2
  exit 1
fi
rm -f .cdk-synth.log
ls cdk.out/*.template.json
echo "cdk-nag: 0 unacknowledged findings"

echo "== cfn-lint"
set +e
.venv/bin/cfn-lint cdk.out/*.template.json
rc=$?
set -e
# cfn-lint's exit code is a bit mask: 1 fatal, 2 error, 4 warning, 8 info.
# Warnings are reported above; only fatal errors and errors fail the check.
if (( rc & 3 )); then echo "cfn-lint: errors found" >&2; exit 1; fi
echo "cfn-lint: 0 errors"

echo "== iam check"; .venv/bin/python scripts/iam_check.py --quiet --report-unused

echo "== checkov"
.venv-checkov/bin/checkov --config-file checkov.yaml

echo "== Amazon States Language"
.venv/bin/python -m scripts.asl_check cdk.out

echo "== parliament (IAM policies)"
.venv-gates/bin/python scripts/iam_policies.py cdk.out

if [ "${CHECK_FUZZ:-true}" = true ]; then
  echo "== schemathesis (scripts/fuzz.sh)"
  bash scripts/fuzz.sh
fi
