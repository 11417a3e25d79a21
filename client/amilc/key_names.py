"""Which secret holds which route's API key.

Each route names the cdk.json *setting* of its key (OpenAPI extension
``x-ami-lifecycle-api-key``); the setting's value is the secret's *leaf*
name under the deployment's ``apiKeySecretPrefix``. Run inside the project,
the clients read the leaves from its cdk.json, so a renamed leaf follows
the deployment; anywhere else they use the leaves the project ships with.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from . import PROJECT_ROOT
from .errors import ClientError

# The committed defaults of projectSettings.amiLifecycle.api.security.api_keys.
DEFAULT_KEY_LEAVES: Mapping[str, str] = MappingProxyType({
    "ami_creation_post_secret_name": "ami_creation_post_api_key",
    "ami_creation_put_secret_name": "ami_creation_put_api_key",
    "ami_creation_status_secret_name": "ami_creation_status_api_key",
    "ami_creation_timeline_secret_name": "ami_creation_timeline_api_key",
    "ami_patch_post_secret_name": "ami_patch_post_api_key",
    "ami_patch_put_secret_name": "ami_patch_put_api_key",
    "ami_patch_timeline_secret_name": "ami_patch_timeline_api_key",
    "ami_creation_qa_certification_secret_name": "ami_creation_qa_certification_key",
    "ami_creation_mark_for_production_secret_name": "ami_creation_mark_for_production_key",
    "ami_patch_mark_for_production_secret_name": "ami_patch_mark_for_production_key",
    "ami_revoke_secret_name": "ami_revoke_key",
})

_KEYS_PATH = ("projectSettings", "amiLifecycle", "api", "security", "api_keys")


def load_key_leaves(cdk_json: Path | None = None) -> dict[str, str]:
    """Setting name -> leaf name: the project's cdk.json when there is one, else the defaults."""
    path = cdk_json if cdk_json is not None else PROJECT_ROOT / "cdk.json"
    leaves = dict(DEFAULT_KEY_LEAVES)
    if not path.is_file():
        return leaves
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ClientError(f"{path}: cannot read the API key names ({error}); fix the file or run the "
                          "client outside the project to use the default names") from None
    section: Any = document
    for key in _KEYS_PATH:
        section = section.get(key) if isinstance(section, Mapping) else None
    if not isinstance(section, Mapping):
        return leaves
    for group in section.values():
        if isinstance(group, Mapping):
            leaves.update({str(name): str(leaf) for name, leaf in group.items() if isinstance(leaf, str) and leaf})
    return leaves
