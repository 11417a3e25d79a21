"""Stack tags from branch names.

A deployment's stack tag is often its git branch: ``feature/Login_2`` is
deployed as ``feature-login-2``. The rule is the one the CDK app applies to
``STACK_TAG`` (stacks/settings.py), so a branch's client finds the branch's
stacks; get_ami.sh applies the same rule in shell.
"""

from __future__ import annotations

import os
import re

from .git import current_branch

DEFAULT_STACK_TAG = "main"
_OUTSIDE = re.compile(r"[^a-z0-9-]")


def slugify_stack_tag(raw: str) -> str:
    """Lower-case, every character outside [a-z0-9-] becomes '-', dashes trimmed at both ends."""
    return _OUTSIDE.sub("-", raw.strip().lower()).strip("-")


def default_stack_tag() -> str:
    """``STACK_TAG``, else the slugified current branch, else ``main`` (outside git or detached)."""
    configured = os.environ.get("STACK_TAG", "").strip()
    if configured:
        return slugify_stack_tag(configured)
    branch = current_branch()
    return slugify_stack_tag(branch) if branch and branch != "HEAD" else DEFAULT_STACK_TAG
