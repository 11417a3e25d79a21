#!/usr/bin/env python3
"""AMI selection client: print the newest AMI of a deployment that meets the criteria.

    python client/cli_ami_selection.py --stack_tag main --lifecycle_event SMOKE_TESTED

Every flag and exit code: docs/cli.md (or --help).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from amilc.selection_cli import main  # noqa: E402

if __name__ == "__main__":
    main()
