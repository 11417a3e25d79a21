#!/usr/bin/env bash
# deploy.sh --local: synthesize, start the local cloud when it is not
# running, deploy the five stacks into it and say what to try next.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
py=.venv/bin/python
tag=$(stack_tag)

echo "== synthesizing (stack tag '$tag')"
cdk synth --quiet >/dev/null

if $py -m local status >/dev/null 2>&1; then
  echo "== the local cloud is already running"
else
  echo "== starting the local cloud"
  $py -m local start
fi

$py -m local env > local-cloud.env
# shellcheck disable=SC1091
source local-cloud.env

echo "== deploying into the local cloud"
$py -m local deploy --cdk-out cdk.out --outputs-file "cdk-outputs-$tag.local.json"

# Vulnerability scans need Inspector EC2 scanning, as on AWS.
$py - <<'PY'
import boto3
account = boto3.client("sts").get_caller_identity()["Account"]
boto3.client("inspector2").enable(accountIds=[account], resourceTypes=["EC2"])
PY

api_url=$($py - "$tag" <<'PY'
import json, sys
outputs = json.load(open(f"cdk-outputs-{sys.argv[1]}.local.json"))
print(outputs.get(f"AmiLifecycle-{sys.argv[1]}", {}).get("amiOrchestratorApiGatewayUrl", ""))
PY
)

cat <<TEXT

The AMI lifecycle orchestrator runs on the local cloud ($AWS_ENDPOINT_URL).
  Stack outputs:  cdk-outputs-$tag.local.json
  Environment:    source local-cloud.env   (endpoint, dummy credentials, region)
TEXT
if [ -n "$api_url" ]; then
  cat <<TEXT
  API:            $api_url

Try:
  source local-cloud.env
  .venv/bin/python client/api-cli.py --mode BATCH --operation AMI_CREATE --stackTag $tag \\
      --owner you@example.com --productName demo --productVer 1.0.0 \\
      --notifications EMAIL::you@example.com --events AMI_BUILD_ONLY --wait
  bash client/get_ami.sh
TEXT
fi
cat <<TEXT

  python -m local status | stop | start    (stop keeps every piece of state)
  bash destroy.sh --local --yes             (delete the stacks and stop the local cloud)
TEXT
