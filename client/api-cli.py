#!/usr/bin/env python3
"""Orchestrator CLI: create AMIs and follow their lifecycle through the API.

    python client/api-cli.py --mode BATCH --operation AMI_CREATE --stackTag main \
        --owner platform-team --productName payments --productVer 2.4.1 \
        --notifications EMAIL::platform-team@example.com --events AMI_BUILD_ONLY --wait

Every flag, operation and exit code: docs/cli.md (or --help).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from amilc.api_cli import main  # noqa: E402

if __name__ == "__main__":
    main()
