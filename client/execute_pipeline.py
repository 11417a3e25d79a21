#!/usr/bin/env python3
"""Build an AMI with the deployment's Image Builder pipeline and export it to VMDK (docs/vmdk-export.md)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from amilc.pipeline_cli import main  # noqa: E402

if __name__ == "__main__":
    main()
