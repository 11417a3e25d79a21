#!/usr/bin/env bash
# Fuzz the orchestrator API with schemathesis, on a local cloud of its own.
#
# Deploys the stacks with `bash deploy.sh --local` on a free port and a state
# folder of its own (never 4566, never the developer's cloud), reads the route
# keys from the local Secrets Manager, then runs schemathesis over every
# operation of openapi.yaml three times:
#   valid keys  each operation with its own route's key: no 5xx, every status
#               code, content type and response body as the document declares;
#   no key      every answer 401 with the API's JSON error;
#   wrong key   every answer 403 with the API's JSON error.
# Bounded: FUZZ_MAX_EXAMPLES generated cases per operation and phase (default 20),
# FUZZ_VALID_MAX_TIME seconds for the valid-key run (default 180) and
# FUZZ_MAX_TIME for each of the other two (default 45). A run with fewer than
# FUZZ_MIN_REQUESTS requests (default 1000) fails. Figures go to stdout and to
# FUZZ_LOG_DIR (default .ci-artifacts/fuzz: summary.txt, each run's log and JUnit
# report); docs/reliability.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --gates
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PYTHONDONTWRITEBYTECODE=1

examples=${FUZZ_MAX_EXAMPLES:-20}
max_time=${FUZZ_MAX_TIME:-45}
valid_max_time=${FUZZ_VALID_MAX_TIME:-180}
min_requests=${FUZZ_MIN_REQUESTS:-1000}
seed=${FUZZ_SEED:-20261202}
logs=${FUZZ_LOG_DIR:-.ci-artifacts/fuzz}
summary=$logs/summary.txt
document=stacks/amilifecycle/runtime/orchestrator/api/openapi.yaml
work=$(mktemp -d)
mkdir -p "$logs"
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export LOCAL_CLOUD_PORT=$port LOCAL_CLOUD_STATE_DIR=$work/state LOCAL_CLOUD_ENV_FILE=$work/local-cloud.env \
  LOCAL_CLOUD_TIME_SCALE=${LOCAL_CLOUD_TIME_SCALE:-0.05}
unset STACK_TAG AWS_ENDPOINT_URL
tag=fuzz

cleanup() {
  bash destroy.sh --local --yes >/dev/null 2>&1 || .venv/bin/python -m local stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

started=$(date +%s)
echo "== deploying into a local cloud of its own (port $port)"
if ! bash deploy.sh --local --yes --stack-tag "$tag" > "$work/deploy.log" 2>&1; then
  tail -40 "$work/deploy.log" >&2
  echo "fuzz: the deployment failed" >&2
  exit 1
fi
# shellcheck disable=SC1090
source "$LOCAL_CLOUD_ENV_FILE"
url=$(.venv/bin/python - "$tag" "$LOCAL_CLOUD_STATE_DIR/outputs-$tag.json" "$work/keys.json" <<'PY'
import json, sys
import boto3
tag, outputs_path, keys_path = sys.argv[1:]
outputs = json.load(open(outputs_path))[f"AmiLifecycle-{tag}"]
from stacks.settings import load_settings
names = load_settings(context_stack_tag=tag).lifecycle.api.all_key_names
secrets = boto3.client("secretsmanager")
keys = {setting: secrets.get_secret_value(SecretId=outputs["apiKeySecretPrefix"] + leaf)["SecretString"]
        for setting, leaf in names.items()}
with open(keys_path, "w") as handle:
    json.dump(keys, handle)
print(outputs["amiOrchestratorApiGatewayUrl"])
PY
)
deployed=$(date +%s)
echo "== API: $url (deployed in $(( deployed - started )) s)"

run() {  # run NAME AUTH CHECKS PHASES SECONDS
  local name=$1 auth=$2 checks=$3 phases=$4 seconds=$5 log="$logs/$1.log" rc=0 began=$(date +%s)
  echo "== schemathesis: $name"
  SCHEMATHESIS_HOOKS=scripts.fuzz_hooks PYTHONPATH=$PWD FUZZ_AUTH=$auth FUZZ_KEYS_FILE=$work/keys.json \
    .venv-gates/bin/schemathesis run "$document" --url "$url" \
      --max-examples "$examples" --max-time "$seconds" --seed "$seed" --checks "$checks" --phases "$phases" \
      --workers 1 --request-timeout 35 --no-color --report junit --report-junit-path "$logs/$name.xml" \
      > "$log" 2>&1 || rc=$?
  tail -25 "$log"
  # "Test cases:" is followed by "  <N> generated, <M> passed..." (or "... found <K> unique failures").
  local cases failures
  cases=$(grep -A1 '^Test cases:' "$log" | tail -1 | grep -oE '^ *[0-9]+' | tr -d ' ') || cases="?"
  failures=$(grep -A1 '^Test cases:' "$log" | tail -1 | grep -oE '[0-9]+ unique failures' | grep -oE '^[0-9]+') || failures=0
  printf '%-10s exit %s, %s requests, %s unique failures, %s s\n' "$name" "$rc" "$cases" "$failures" \
    "$(( $(date +%s) - began ))" >> "$work/summary"
  if [ "$rc" = 0 ] && ! [ "${cases:-0}" -ge "$min_requests" ] 2>/dev/null; then
    echo "fuzz: $name made ${cases:-no} requests, fewer than $min_requests" | tee -a "$work/summary" >&2
    rc=1
  fi
  return $rc
}

status=0
# Without a valid key there is no stateful phase: no operation's answer links to another.
run valid-keys valid "no_server_error,status_code_conformance,content_type_conformance,response_schema_conformance" \
  examples,coverage,fuzzing,stateful "$valid_max_time" || status=1
run no-key none "not_a_server_error,refused_with_json" examples,coverage,fuzzing "$max_time" || status=1
run wrong-key wrong "not_a_server_error,refused_with_json" examples,coverage,fuzzing "$max_time" || status=1

{ echo "fuzz $(date -u +%FT%TZ): $examples examples per operation, seed $seed, $(( $(date +%s) - started )) s in all (deploy $(( deployed - started )) s)"
  cat "$work/summary"; } | tee "$summary"
exit $status
