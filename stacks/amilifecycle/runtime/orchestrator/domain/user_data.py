"""User data for the instances the lifecycle launches.

:func:`smoke_test_user_data` renders the bash script a smoke-test instance
(Amazon Linux 2023) runs at first boot: it fetches the smoke-test suite
from S3 and runs its ``run_smoke_tests.py``, which answers the Step
Functions task token. Whatever breaks before the runner answers (no pip,
no suite object, a corrupt zip, a runner that dies), the script answers
the token itself with ``SendTaskFailure`` / ``SmokeTestsError`` naming the
step, so the state machine never waits for its timeout because of a broken
instance. Every value is shell-quoted; the script needs python3 only
(boto3 and pytest are installed with pip when missing), no AWS CLI.

Pure: text in, text out.
"""

from __future__ import annotations

import shlex

USER_DATA_LIMIT_BYTES = 16 * 1024  # EC2's limit, before base64 encoding
RUNNER = "run_smoke_tests.py"
SMOKE_TESTS_ERROR = "SmokeTestsError"

_SCRIPT = """#!/bin/bash
# Smoke tests of this AMI: fetch the suite, run it, answer the lifecycle's task.
set -euo pipefail

export AWS_DEFAULT_REGION={region}
TASK_TOKEN={task_token}
SUITE_BUCKET={suite_bucket}
SUITE_KEY={suite_key}
LOG_GROUP={log_group}
LOG_STREAM={log_stream}
STEP="create the work folder"

send_failure() {{
  SMOKE_TEST_TASK_TOKEN="$TASK_TOKEN" python3 - "$1" "$2" <<'PY'
import os, sys
import boto3
step, status = sys.argv[1], sys.argv[2]
boto3.client("stepfunctions").send_task_failure(
    taskToken=os.environ["SMOKE_TEST_TASK_TOKEN"], error="{error}",
    cause=f"instance user data: step '{{step}}' failed with exit status {{status}}")
PY
}}

answer_failure() {{
  local status=$?
  trap - EXIT
  [ "$status" -eq 0 ] && exit 0
  echo "smoke tests: step '$STEP' failed (exit status $status); answering the task" >&2
  if ! send_failure "$STEP" "$status"; then
    aws stepfunctions send-task-failure --task-token "$TASK_TOKEN" --error {error} \\
      --cause "instance user data: step '$STEP' failed with exit status $status" || true
  fi
  exit "$status"
}}
trap answer_failure EXIT

WORK_DIR="$(mktemp -d "${{TMPDIR:-/tmp}}/smoke-tests.XXXXXX")"
TOKEN_FILE="$WORK_DIR/task-token"

STEP="write the task token"
(umask 077 && printf '%s' "$TASK_TOKEN" > "$TOKEN_FILE")

STEP="install boto3 and pytest"
if ! python3 -c 'import boto3, pytest' 2>/dev/null; then
  python3 -m pip --version >/dev/null 2>&1 || dnf install -y -q python3-pip
  python3 -m pip install --quiet boto3 pytest
fi

STEP="download the suite"
python3 - "$SUITE_BUCKET" "$SUITE_KEY" "$WORK_DIR/suite.zip" <<'PY'
import sys
import boto3
boto3.client("s3").download_file(sys.argv[1], sys.argv[2], sys.argv[3])
PY

STEP="unzip the suite"
python3 -m zipfile -e "$WORK_DIR/suite.zip" "$WORK_DIR/suite"
RUNNER_FILE="$(find "$WORK_DIR/suite" -maxdepth 2 -name {runner} -print -quit)"
[ -n "$RUNNER_FILE" ] || {{ echo "no {runner} in the suite" >&2; false; }}

STEP="run the smoke tests"
cd "$(dirname "$RUNNER_FILE")"
python3 {runner} --task-token-file "$TOKEN_FILE" --log-group "$LOG_GROUP" \\
  --log-stream "$LOG_STREAM" --region "$AWS_DEFAULT_REGION"
"""


def smoke_test_user_data(*, suite_bucket: str, suite_key: str, task_token: str, log_group: str,
                         log_stream: str, region: str) -> str:
    """The user data of a smoke-test instance (a bash script, under EC2's
    16 KB limit). ``suite_key`` names the suite's zip in ``suite_bucket``;
    the runner writes its output to ``log_group``/``log_stream``."""
    values = {"suite_bucket": suite_bucket, "suite_key": suite_key, "task_token": task_token,
              "log_group": log_group, "log_stream": log_stream, "region": region}
    empty = [name for name, value in values.items() if not isinstance(value, str) or not value]
    if empty:
        raise ValueError(f"smoke-test user data needs non-empty strings for: {', '.join(empty)}")
    script = _SCRIPT.format(error=SMOKE_TESTS_ERROR, runner=RUNNER,
                            **{name: shlex.quote(value) for name, value in values.items()})
    size = len(script.encode("utf-8"))
    if size > USER_DATA_LIMIT_BYTES:
        raise ValueError(f"smoke-test user data is {size} bytes, over EC2's {USER_DATA_LIMIT_BYTES}-byte limit")
    return script


def scan_instance_user_data() -> None:
    """A vulnerability-scan instance runs no user data: Inspector scans it
    through the SSM agent the AMI already carries."""
    return None
