"""What the clients learn from the git checkout they run in (if any)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(*args: str, cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def head_commit(cwd: Path | None = None) -> str | None:
    """The commit checked out in ``cwd`` (the current directory by default), or None outside git."""
    return _git("rev-parse", "HEAD", cwd=cwd)
