"""The build-waits table: which task token waits for which image build.

A waits table (``task_waits.py``) keyed by the image build version ARN: the
build state machine's wait step registers its token, the Image Builder
notification handler records the build's outcome, and whoever writes
second answers the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.builds import BuildOutcome
from .task_waits import TaskWait, TaskWaits

PARTITION_KEY = "image_build_version_arn"


@dataclass(frozen=True)
class BuildWait:
    """The item as it stands after a write: the waiting token and the known outcome, if any."""

    image_build_version_arn: str
    task_token: str | None
    outcome: BuildOutcome | None
    lifecycle_id: str | None = None

    @property
    def ready(self) -> bool:
        """Both halves are there: the token can be answered."""
        return self.task_token is not None and self.outcome is not None


def _build_wait(wait: TaskWait) -> BuildWait:
    outcome = wait.outcome
    return BuildWait(
        image_build_version_arn=wait.key, task_token=wait.task_token,
        outcome=BuildOutcome(image_build_version_arn=wait.key, status=str(outcome["status"]),
                             reason=str(outcome.get("reason") or "")) if outcome else None,
        lifecycle_id=wait.lifecycle_id)


class BuildWaits:
    """Registers waiting tokens and build outcomes in the build-waits table."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        if not table_name:
            raise ValueError("BuildWaits needs the build-waits table name (BUILD_WAITS_TABLE_NAME)")
        self.table_name = table_name
        self._waits = TaskWaits(table_name, PARTITION_KEY, client)

    def register_token(self, image_build_version_arn: str, task_token: str, *, lifecycle_id: str,
                       now: datetime) -> BuildWait:
        """Remember that ``task_token`` waits for the build; a newer token replaces an older one."""
        return _build_wait(self._waits.register_token(image_build_version_arn, task_token,
                                                      lifecycle_id=lifecycle_id, now=now))

    def record_outcome(self, outcome: BuildOutcome, *, now: datetime) -> BuildWait:
        """Remember how the build ended; the first outcome recorded stays (a late duplicate changes nothing)."""
        return _build_wait(self._waits.record_outcome(
            outcome.image_build_version_arn, {"status": outcome.status, "reason": outcome.reason}, now=now))

    def get(self, image_build_version_arn: str) -> BuildWait | None:
        """The item of one build, read consistently, or ``None``."""
        wait = self._waits.get(image_build_version_arn)
        return _build_wait(wait) if wait else None
