"""What a function knows about its deployment, read once from the environment.

Every orchestrator function gets the same common variables (table, queue and
topic names, the API key secret prefix, ...) from the CDK stack; a few
functions get more (the API function: the build state machine and the key
names of its routes). Reading them in one place means a missing or malformed
variable fails the first invocation with one message naming every problem,
instead of a KeyError deep inside a request.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Mapping

from .domain.errors import ValidationError
from .domain.versioning import parse_version

REQUIRED_VARIABLES = (
    "STACK_TAG",
    "STATE_TABLE_NAME",
    "SEMVER_SEED_TABLE_NAME",
    "LOOKUP_TABLE_NAME",
    "NOTIFICATION_TOPIC_ARN",
    "CREATION_RECEIVER_QUEUE_URL",
    "PATCH_RECEIVER_QUEUE_URL",
    "ERROR_RECEIVER_QUEUE_URL",
    "API_KEY_SECRET_PREFIX",
    "DEFAULT_SEMVER_SEED",
    "STATE_MACHINE_MAX_WAIT_MINUTES",
    "TAGGER_ROLE_NAME",
    "IMAGEBUILDER_PIPELINE_ARN",
    "EVENT_LOG_GROUP_NAME",
)
OPTIONAL_VARIABLES = ("BUILD_STATE_MACHINE_ARN", "BUILD_WAITS_TABLE_NAME", "API_KEY_NAMES_JSON")


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or malformed (a deployment fault, not a request fault)."""


@dataclass(frozen=True)
class RuntimeConfig:
    """The deployment as one function sees it.

    ``api_key_names`` maps a cdk.json key setting (``ami_creation_post_secret_name``)
    to its secret leaf (``ami_creation_post_api_key``); the secret's name is
    ``api_key_secret_prefix + leaf``. Optional attributes are ``None`` (or
    empty) in functions that were not given them.
    """

    stack_tag: str
    state_table_name: str
    semver_seed_table_name: str
    lookup_table_name: str
    notification_topic_arn: str
    creation_receiver_queue_url: str
    patch_receiver_queue_url: str
    error_receiver_queue_url: str
    api_key_secret_prefix: str
    default_semver_seed: str
    state_machine_max_wait: timedelta
    tagger_role_name: str
    imagebuilder_pipeline_arn: str
    event_log_group_name: str
    build_state_machine_arn: str | None = None
    build_waits_table_name: str | None = None
    api_key_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "RuntimeConfig":
        """Read and check the variables; every problem is reported at once."""
        env = os.environ if environ is None else environ
        problems: list[str] = []
        values: dict[str, str] = {}
        for name in REQUIRED_VARIABLES:
            value = (env.get(name) or "").strip()
            if value:
                values[name] = value
            else:
                problems.append(f"{name}: missing (required)")

        max_wait = _minutes(values.get("STATE_MACHINE_MAX_WAIT_MINUTES"), problems)
        seed = values.get("DEFAULT_SEMVER_SEED")
        if seed is not None:
            try:
                parse_version(seed, field="DEFAULT_SEMVER_SEED")
            except ValidationError as error:
                problems.append(error.message)
        key_names = _key_names(env.get("API_KEY_NAMES_JSON"), problems)
        if problems:
            raise ConfigurationError("function environment is not usable: " + "; ".join(problems))

        return cls(
            stack_tag=values["STACK_TAG"],
            state_table_name=values["STATE_TABLE_NAME"],
            semver_seed_table_name=values["SEMVER_SEED_TABLE_NAME"],
            lookup_table_name=values["LOOKUP_TABLE_NAME"],
            notification_topic_arn=values["NOTIFICATION_TOPIC_ARN"],
            creation_receiver_queue_url=values["CREATION_RECEIVER_QUEUE_URL"],
            patch_receiver_queue_url=values["PATCH_RECEIVER_QUEUE_URL"],
            error_receiver_queue_url=values["ERROR_RECEIVER_QUEUE_URL"],
            api_key_secret_prefix=values["API_KEY_SECRET_PREFIX"],
            default_semver_seed=values["DEFAULT_SEMVER_SEED"],
            state_machine_max_wait=max_wait or timedelta(0),
            tagger_role_name=values["TAGGER_ROLE_NAME"],
            imagebuilder_pipeline_arn=values["IMAGEBUILDER_PIPELINE_ARN"],
            event_log_group_name=values["EVENT_LOG_GROUP_NAME"],
            build_state_machine_arn=(env.get("BUILD_STATE_MACHINE_ARN") or "").strip() or None,
            build_waits_table_name=(env.get("BUILD_WAITS_TABLE_NAME") or "").strip() or None,
            api_key_names=MappingProxyType(key_names),
        )

    def api_key_secret_name(self, setting: str) -> str:
        """The Secrets Manager name of the key configured under ``setting``."""
        try:
            leaf = self.api_key_names[setting]
        except KeyError:
            known = ", ".join(sorted(self.api_key_names)) or "none"
            raise ConfigurationError(
                f"API_KEY_NAMES_JSON has no key setting {setting!r} (this function knows: {known})") from None
        return f"{self.api_key_secret_prefix}{leaf}"


def _minutes(raw: str | None, problems: list[str]) -> timedelta | None:
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        problems.append(f"STATE_MACHINE_MAX_WAIT_MINUTES: expected a whole number of minutes >= 1, got {raw!r}")
        return None
    return timedelta(minutes=int(raw))


def _key_names(raw: str | None, problems: list[str]) -> dict[str, str]:
    if raw is None or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        problems.append("API_KEY_NAMES_JSON: expected a JSON object of key setting -> secret leaf, got invalid JSON")
        return {}
    if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in parsed.items()):
        problems.append("API_KEY_NAMES_JSON: expected a JSON object of non-empty strings (key setting -> secret leaf)")
        return {}
    return dict(parsed)
