#!/usr/bin/env bash
# Delete every stack of one deployment (stack tag).
#   bash destroy.sh --local [--yes]                    the local cloud: delete the stacks and stop it
#   bash destroy.sh [--yes] [--stack-tag TAG] [--disable-inspector]
#                                                      the AWS deployment
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
parse_args "usage: bash destroy.sh [--local] [--yes] [--stack-tag TAG] [--disable-inspector]" "$@"

bash scripts/setup.sh
tag=$(stack_tag) || exit 1

if [ "$MODE" = local ]; then
  exec bash scripts/local-destroy.sh
fi

identity=$(.venv/bin/python -m scripts.aws_account whoami) || exit 1
read -r account region caller <<<"$identity"
confirm "Delete all stacks of stack tag '$tag' in account $account ($region), with their data?" \
  || die "nothing deleted"

if [ "$INSPECTOR" = disable ] || { [ "$INSPECTOR" = ask ] && [ "$ASSUME_YES" = false ] \
     && confirm "Also disable Amazon Inspector EC2 scanning for the whole account $account?"; }; then
  .venv/bin/python -m scripts.aws_account inspector disable
fi

stacks=()
for base in AmiLifecycle AmiLifecycleTagger VmdkExport AmiLifecycleImageBuilder AmiLifecycleNetwork; do
  stacks+=("$base-$tag")
done
.venv/bin/python -m scripts.aws_account empty-buckets "${stacks[@]}"
cdk destroy --all --force
echo "Deleted. The CDKToolkit bootstrap stack is shared by every CDK app of the account and is kept."
