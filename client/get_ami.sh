#!/usr/bin/env bash
# Print the newest AMI of the deployment that passed at least the build
# (the defaults of cli_ami_selection.py). Run it from your checkout.
#
#   bash client/get_ami.sh [--with-commit-ref] [cli_ami_selection.py flags...]
#
# Stack tag: --stack_tag if given, else the deployment's (STACK_TAG, else
# LOCAL_CLOUD_STACK_TAG from local-cloud.env, else cdk.json's stackTag);
# the default is named on stderr. --with-commit-ref also requires the AMI to
# come from the commit checked out here. Any other flag goes to
# cli_ami_selection.py (for example --region, --lifecycle_event
# SMOKE_TESTED). Region and credentials come from the environment or the
# AWS profile; AWS_ENDPOINT_URL selects the local cloud.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/../.venv/bin/python"
if [ ! -x "$python" ]; then
  python="$(command -v python3 || true)"
fi
if [ -z "$python" ]; then
  echo "error: python3 not found; install Python 3.11+ or run 'bash scripts/setup.sh' in the project" >&2
  exit 3
fi

with_commit_ref=false
args=()
for arg in "$@"; do
  case "$arg" in
    --with-commit-ref) with_commit_ref=true ;;
    *) args+=("$arg") ;;
  esac
done

selection=()
if [ "$with_commit_ref" = true ]; then
  commit="$(git rev-parse HEAD 2>/dev/null || true)"
  if [ -z "$commit" ]; then
    echo "error: --with-commit-ref needs a git checkout: run get_ami.sh inside one, or drop the flag" >&2
    exit 2
  fi
  selection+=(--commit_ref "$commit")
fi

exec "$python" "$here/cli_ami_selection.py" "${selection[@]+"${selection[@]}"}" "${args[@]+"${args[@]}"}"
