"""The smoke-test instance's user data: a bash script with safely quoted
values, under EC2's limit, that answers the task itself when a step before
the runner fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from orchestrator.domain.user_data import (
    USER_DATA_LIMIT_BYTES,
    scan_instance_user_data,
    smoke_test_user_data,
)

HOSTILE_TOKEN = ("AAAAKgAAAAIAAAAA'\"$(touch /tmp/pwned)`id`;\\ \n*" * 24)[:1024]
VALUES = {"suite_bucket": "amilifecycle-assets-123456789012", "suite_key": "smoke tests/suite v1.zip",
          "task_token": HOSTILE_TOKEN, "log_group": "/amilifecycle/smoketests",
          "log_stream": "lc-1/$(whoami)/smoketests.log", "region": "eu-west-1"}


def _render(**overrides: str) -> str:
    return smoke_test_user_data(**{**VALUES, **overrides})


def test_the_script_is_strict_bash():
    script = _render()

    assert script.startswith("#!/bin/bash\n")
    assert "set -euo pipefail\n" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_a_1024_character_token_stays_under_the_user_data_limit():
    assert len(HOSTILE_TOKEN) == 1024

    assert len(_render().encode()) < USER_DATA_LIMIT_BYTES


def test_every_value_reaches_the_shell_exactly_as_given():
    script = _render()
    assignments = script[script.index("export AWS_DEFAULT_REGION="):script.index('STEP="create the work folder"')]
    shown = subprocess.run(
        ["bash", "-c", assignments + '\nprintf "%s\\0" "$TASK_TOKEN" "$SUITE_BUCKET" "$SUITE_KEY" "$LOG_GROUP" '
                                     '"$LOG_STREAM" "$AWS_DEFAULT_REGION"'],
        capture_output=True, text=True, check=True).stdout.split("\0")[:-1]

    assert shown == [VALUES[k] for k in ("task_token", "suite_bucket", "suite_key", "log_group", "log_stream",
                                         "region")]


def test_a_missing_value_is_refused_naming_it():
    with pytest.raises(ValueError, match="task_token, region"):
        _render(task_token="", region="")


def test_user_data_over_the_ec2_limit_is_refused():
    with pytest.raises(ValueError, match="16384-byte limit"):
        _render(suite_key="k" * USER_DATA_LIMIT_BYTES)


def _fake_python(tmp_path: Path, failing_step: str) -> Path:
    """A python3 that records each call; the call for ``failing_step`` fails."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "python3").write_text(f"""#!/bin/bash
echo "ARGS $*" >> {calls}
[ -n "${{SMOKE_TEST_TASK_TOKEN:-}}" ] && {{ printf 'TOKEN %s\\n' "$SMOKE_TEST_TASK_TOKEN" >> {calls}; cat >> {calls}; exit 0; }}
case "$*" in
  *{failing_step}*) exit 7 ;;
esac
[ "$1" = "-" ] && cat > /dev/null
exit 0
""")
    (bin_dir / "python3").chmod(0o755)
    return bin_dir


def test_a_failed_download_answers_the_task_with_smoke_tests_error_naming_the_step(tmp_path):
    bin_dir = _fake_python(tmp_path, failing_step="suite.zip")
    script = _render(task_token="token-123")

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                            env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp_path),
                                 "HOME": str(tmp_path)})

    assert result.returncode == 7
    calls = (tmp_path / "calls").read_text()
    assert "ARGS - download the suite 7" in calls
    assert "TOKEN token-123" in calls
    assert 'error="SmokeTestsError"' in calls
    assert "ARGS -m zipfile" not in calls  # nothing after the failed step ran


def test_the_token_file_is_private(tmp_path):
    bin_dir = _fake_python(tmp_path, failing_step="zipfile")
    subprocess.run(["bash", "-c", _render(task_token="token-123")], capture_output=True, text=True, cwd=tmp_path,
                   env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp_path), "HOME": str(tmp_path)})

    [token_file] = tmp_path.glob("smoke-tests.*/task-token")
    assert token_file.read_text() == "token-123"
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_a_scan_instance_runs_no_user_data():
    assert scan_instance_user_data() is None
