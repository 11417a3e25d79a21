"""Shared code of the command-line clients (``api-cli.py``, ``cli_ami_selection.py``).

The clients speak the orchestrator's own vocabulary: event names, CLI
values, selection names and lookup scores come from the pure domain package
``orchestrator.domain`` that the Lambda functions use, so client and server
can never disagree on a name or a score. That package lives in the
repository beside this one (``stacks/amilifecycle/runtime``); importing
``amilc`` makes it importable. The domain needs only the standard library
and ``semver``, so this stays cheap.
"""

from __future__ import annotations

import sys
from pathlib import Path

CLIENT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_ROOT = CLIENT_ROOT.parent
RUNTIME_ROOT = PROJECT_ROOT / "stacks" / "amilifecycle" / "runtime"

if not (RUNTIME_ROOT / "orchestrator" / "domain").is_dir():  # pragma: no cover - a broken checkout
    raise SystemExit(
        f"error: the orchestrator domain package is missing: expected {RUNTIME_ROOT}/orchestrator/domain. "
        "Run the clients from a complete checkout of the project."
    )
if str(RUNTIME_ROOT) not in sys.path:
    sys.path.insert(0, str(RUNTIME_ROOT))
