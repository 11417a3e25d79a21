"""Stack tags: the one rule for "which deployment" when none is named.

A client given no stack tag talks to the deployment the project deployed:

1. ``STACK_TAG`` (what ``deploy.sh --stack-tag`` and the CDK app read);
2. ``LOCAL_CLOUD_STACK_TAG``, which ``bash deploy.sh --local`` records in
   ``local-cloud.env`` (so a shell that sourced it reaches that deployment);
3. ``projectSettings.stackTag`` of the project's ``cdk.json`` (the app's
   own default);
4. ``main`` (outside a checkout).

Every value is slugified the way the CDK app does it (stacks/settings.py):
``Feature/Login_2`` is ``feature-login-2``. The clients say on stderr which
tag they defaulted to and why.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import PROJECT_ROOT

DEFAULT_STACK_TAG = "main"
RECORDED_STACK_TAG_VARIABLE = "LOCAL_CLOUD_STACK_TAG"
_OUTSIDE = re.compile(r"[^a-z0-9-]")


def slugify_stack_tag(raw: str) -> str:
    """Lower-case, every character outside [a-z0-9-] becomes '-', dashes trimmed at both ends."""
    return _OUTSIDE.sub("-", raw.strip().lower()).strip("-")


@dataclass(frozen=True)
class DefaultStackTag:
    tag: str
    source: str

    def notice(self, flag: str = "--stackTag") -> str:
        """The stderr line that says which tag was chosen (and the client's ``flag`` to choose another)."""
        return f"stack tag: {self.tag} (from {self.source}; pass {flag} to choose another)"


def _cdk_json_tag(cdk_json: Path) -> str | None:
    try:
        document: Any = json.loads(cdk_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    settings = document.get("projectSettings") if isinstance(document, Mapping) else None
    tag = settings.get("stackTag") if isinstance(settings, Mapping) else None
    return tag if isinstance(tag, str) and tag.strip() else None


def default_stack_tag(environ: Mapping[str, str] | None = None, cdk_json: Path | None = None) -> DefaultStackTag:
    """The stack tag of the deployment, by the rule above, and where it came from."""
    environ = os.environ if environ is None else environ
    path = cdk_json if cdk_json is not None else PROJECT_ROOT / "cdk.json"
    for variable, source in (("STACK_TAG", "STACK_TAG"),
                             (RECORDED_STACK_TAG_VARIABLE, f"{RECORDED_STACK_TAG_VARIABLE}, set by local-cloud.env")):
        raw = environ.get(variable, "").strip()
        if raw:
            return DefaultStackTag(slugify_stack_tag(raw), source)
    configured = _cdk_json_tag(path)
    if configured:
        return DefaultStackTag(slugify_stack_tag(configured), f"projectSettings.stackTag in {path.name}")
    return DefaultStackTag(DEFAULT_STACK_TAG, "the built-in default")
