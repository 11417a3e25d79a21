"""Unit tests import the Lambda package the way the Lambda runtime does: ``orchestrator``.

The asset root (stacks/amilifecycle/runtime) goes on sys.path once, here.
"""

from __future__ import annotations

import sys
from pathlib import Path

RUNTIME_ROOT = Path(__file__).resolve().parents[2] / "stacks" / "amilifecycle" / "runtime"
if str(RUNTIME_ROOT) not in sys.path:
    sys.path.insert(0, str(RUNTIME_ROOT))
