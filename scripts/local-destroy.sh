#!/usr/bin/env bash
# destroy.sh --local: delete the stacks from the local cloud and stop it.
# The cloud is the one LOCAL_CLOUD_PORT / LOCAL_CLOUD_STATE_DIR name (what
# local-cloud.env exports); if none runs there, nothing is deleted and the
# script fails saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
py=.venv/bin/python
env_file=${LOCAL_CLOUD_ENV_FILE:-local-cloud.env}
endpoint=http://127.0.0.1:${LOCAL_CLOUD_PORT:-4566}
state_dir=${LOCAL_CLOUD_STATE_DIR:-$PWD/.local-cloud}

if ! $py -m local status >/dev/null 2>&1; then
  die "no local cloud answers at $endpoint with state folder $state_dir, so nothing was deleted: source the local-cloud.env that deploy.sh --local wrote for it (or set LOCAL_CLOUD_PORT and LOCAL_CLOUD_STATE_DIR), or start a stopped one with: python3 -m local start"
fi
confirm "Delete every stack from the local cloud at $endpoint and stop it?" || die "nothing deleted"
if [ -d cdk.out ]; then
  $py -m local destroy --cdk-out cdk.out
fi
$py -m local stop
rm -f "$env_file"
echo "Deleted the stacks and stopped the local cloud (its state folder $state_dir is kept; delete it to start afresh)."
