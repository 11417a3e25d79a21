#!/usr/bin/env bash
# deploy.sh --local: synthesize, start the local cloud when it is not
# running, deploy the five stacks into it and say what to try next.
# Arguments: the CDK's -c KEY=VALUE pairs deploy.sh was given (settings overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
CONTEXT=("$@")
py=.venv/bin/python
tag=$(stack_tag)
env_file=${LOCAL_CLOUD_ENV_FILE:-local-cloud.env}
outputs_file=${LOCAL_CLOUD_STATE_DIR:-.local-cloud}/outputs-$tag.json

echo "== synthesizing (stack tag '$tag')"
cdk synth --quiet "${CONTEXT[@]}" >/dev/null

if $py -m local status >/dev/null 2>&1; then
  echo "== the local cloud is already running"
else
  echo "== starting the local cloud"
  $py -m local start
fi

# Everything a new shell needs to reach this cloud and this deployment.
$py -m local env --stack-tag "$tag" --env-file "$env_file" > "$env_file"
# shellcheck disable=SC1090
source "$env_file"

echo "== deploying into the local cloud"
$py -m local deploy --cdk-out cdk.out --outputs-file "$outputs_file"

# Vulnerability scans need Inspector EC2 scanning, as on AWS.
$py - <<'PY'
import boto3
account = boto3.client("sts").get_caller_identity()["Account"]
boto3.client("inspector2").enable(accountIds=[account], resourceTypes=["EC2"])
PY

api_url=$($py - "$tag" "$outputs_file" <<'PY'
import json, sys
outputs = json.load(open(sys.argv[2]))
print(outputs.get(f"AmiLifecycle-{sys.argv[1]}", {}).get("amiOrchestratorApiGatewayUrl", ""))
PY
)

cat <<TEXT

The AMI lifecycle orchestrator runs on the local cloud ($AWS_ENDPOINT_URL).
  Stack outputs:  $outputs_file
  Environment:    source $env_file   (endpoint, dummy credentials, region, port, state folder, stack tag)
TEXT
if [ -n "$api_url" ]; then
  cat <<TEXT
  API:            $api_url

Try (README.md, "Your first AMI"):
  source $env_file
  LC=\$(.venv/bin/python client/api-cli.py --mode BATCH --operation AMI_CREATE \\
      --owner you@example.com --productName demo --productVer 1.0.0 \\
      --notifications EMAIL::you@example.com --events AMI_BUILD_ONLY --wait)
  bash client/get_ami.sh
TEXT
fi
cat <<TEXT

  python3 -m local status | stop | start   (stop keeps every piece of state)
  bash destroy.sh --local --yes             (delete the stacks and stop the local cloud)
TEXT
