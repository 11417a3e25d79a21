#!/usr/bin/env bash
# Deploy the AMI lifecycle orchestrator (all five stacks).
#   bash deploy.sh --local [--yes] [--stack-tag TAG] [-c KEY=VALUE ...]   on this machine (the local cloud)
#   bash deploy.sh [--yes] [--stack-tag TAG] [--skip-inspector] [-c KEY=VALUE ...]
#                                                      to the AWS account your credentials resolve to
# -c projectSettings.<path>=<value> changes one cdk.json setting for this deployment (README.md, Settings).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
parse_args "usage: bash deploy.sh [--local] [--yes] [--stack-tag TAG] [--skip-inspector] [-c KEY=VALUE ...]" "$@"

bash scripts/setup.sh
tag=$(stack_tag) || exit 1

if [ "$MODE" = local ]; then
  exec bash scripts/local-deploy.sh "${CONTEXT[@]}"
fi

identity=$(.venv/bin/python -m scripts.aws_account whoami) || exit 1
read -r account region caller <<<"$identity"
echo "Deploying stack tag '$tag' to account $account in $region as $caller"

if [ "$INSPECTOR" = ask ]; then
  cat <<TEXT

The vulnerability-scan event uses Amazon Inspector EC2 scanning. Enabling it
is account-wide and billed per scanned instance (see the Amazon Inspector
pricing page). Use --skip-inspector if your organisation manages Inspector.
TEXT
  confirm "Enable Amazon Inspector EC2 scanning for account $account?" \
    || die "deployment cancelled: vulnerability scans need Amazon Inspector EC2 scanning (or pass --skip-inspector)"
  .venv/bin/python -m scripts.aws_account inspector enable
fi

if [ "$(.venv/bin/python -m scripts.aws_account bootstrapped)" != yes ]; then
  echo "Account $account is not bootstrapped for the CDK in $region: bootstrapping"
  cdk bootstrap "aws://$account/$region"
fi

approval=()
[ "$ASSUME_YES" = true ] && approval=(--require-approval never)
cdk deploy --all "${approval[@]}" "${CONTEXT[@]}" --outputs-file "cdk-outputs-$tag.json"
echo
echo "Deployed. Stack outputs: cdk-outputs-$tag.json"
echo "Next: python client/api-cli.py --help"
