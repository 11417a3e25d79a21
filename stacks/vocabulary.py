"""The orchestrator's vocabulary, for the infrastructure code.

Event names, lifecycle types and statuses are defined once, in the Lambda
package's pure domain (``orchestrator.domain.vocabulary``, standard library
only). The stacks import them from there, exactly as the command-line clients
do, instead of restating literals such as ``"BUILD_AMI"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

RUNTIME_ROOT = Path(__file__).resolve().parent / "amilifecycle" / "runtime"
if str(RUNTIME_ROOT) not in sys.path:
    sys.path.insert(0, str(RUNTIME_ROOT))

from orchestrator.domain.vocabulary import EventName, LifecycleType, Status, definition  # noqa: E402

__all__ = ["EventName", "LifecycleType", "Status", "definition"]
