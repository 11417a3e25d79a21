#!/usr/bin/env bash
# destroy.sh --local: delete the stacks from the local cloud and stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
py=.venv/bin/python

if ! $py -m local status >/dev/null 2>&1; then
  echo "The local cloud is not running: nothing to delete."
  rm -f "${LOCAL_CLOUD_ENV_FILE:-local-cloud.env}"
  exit 0
fi
confirm "Delete every stack from the local cloud and stop it?" || die "nothing deleted"
if [ -d cdk.out ]; then
  $py -m local destroy --cdk-out cdk.out
fi
$py -m local stop
rm -f "${LOCAL_CLOUD_ENV_FILE:-local-cloud.env}"
echo "Deleted the stacks and stopped the local cloud (its state folder .local-cloud/ is kept; delete it to start afresh)."
