#!/usr/bin/env bash
# Build an AMI with the deployment's Image Builder pipeline; when the build is
# AVAILABLE the deployment exports it to VMDK in S3 and emails the download
# link (docs/vmdk-export.md). Prints the image build version ARN.
#
#   bash execute-pipeline.sh [--stackTag TAG] [--region REGION]
#
# Region and credentials come from the environment or the AWS profile;
# AWS_ENDPOINT_URL selects the local cloud (source local-cloud.env).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/.venv/bin/python"
if [ ! -x "$python" ]; then
  python="$(command -v python3 || true)"
fi
if [ -z "$python" ]; then
  echo "error: python3 not found; install Python 3.11+ or run 'bash scripts/setup.sh' in the project" >&2
  exit 3
fi
exec "$python" "$here/client/execute_pipeline.py" "$@"
