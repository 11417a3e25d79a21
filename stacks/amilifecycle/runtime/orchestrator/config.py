"""What a function knows about its deployment, read once from the environment.

Each function is given only the variables it reads (the stack's constructs
decide which); :data:`VARIABLES` lists every variable the package knows.
Reading them in one place means a malformed variable fails the first
invocation with one message naming every problem, and a variable the
function was not given fails where it is first needed with a message naming
it, instead of a KeyError deep inside a request.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Mapping

from .domain.errors import ValidationError
from .domain.versioning import parse_version
from .domain.vocabulary import EventName, parse_event_name

# Every variable, with what it holds. Plain text unless parsed below.
VARIABLES: Mapping[str, str] = MappingProxyType({
    "STACK_TAG": "the deployment's stack tag",
    "STATE_TABLE_NAME": "the lifecycle state table",
    "SEMVER_SEED_TABLE_NAME": "the semantic version seed table",
    "LOOKUP_TABLE_NAME": "the AMI lookup table",
    "NOTIFICATION_TOPIC_ARN": "the lifecycle notification topic",
    "API_KEY_SECRET_PREFIX": "the Secrets Manager name prefix of the API keys",
    "API_KEY_NAMES_JSON": "the API key setting -> secret leaf map (JSON object)",
    "DEFAULT_SEMVER_SEED": "the first semantic version of a stack tag",
    "STATE_MACHINE_MAX_WAIT_MINUTES": "minutes after which an unfinished event is reported timed out",
    "TAGGER_ROLE_NAME": "the AMI tagger role assumed in distribution accounts",
    "DISTRIBUTION_ACCOUNTS": "the distribution account ids (comma-separated)",
    "TAGGER_SESSION_NAME": "the session name of the assumed tagger role",
    "IMAGEBUILDER_PIPELINE_ARN": "the Image Builder pipeline that builds AMIs",
    "EVENT_LOG_GROUP_NAME": "the event notifications log group",
    "BUILD_WAITS_TABLE_NAME": "the table of pending build waits",
    "EVENT_STATE_MACHINES_JSON": "the event name -> state machine ARN map (JSON object)",
    "TEST_INSTANCE_TYPE": "the instance type of test instances",
    "TEST_INSTANCE_VOLUME_GIB": "the root volume size of test instances (GiB)",
    "TEST_INSTANCE_SUBNET_IDS": "the private subnets test instances run in (comma-separated)",
    "TEST_INSTANCE_SECURITY_GROUP_ID": "the security group of test instances",
    "TEST_INSTANCE_PROFILE_ARN": "the instance profile of test instances",
    "SMOKE_TEST_SUITE_BUCKET": "the bucket of the smoke-test suite asset",
    "SMOKE_TEST_SUITE_KEY": "the object key of the smoke-test suite asset",
    "SMOKE_TEST_LOG_GROUP_NAME": "the log group of smoke-test output",
    "SCAN_WAITS_TABLE_NAME": "the table of pending vulnerability scan waits",
    "FINDINGS_BUCKET_NAME": "the bucket of findings reports and SBOMs",
    "FINDINGS_KEY_ARN": "the KMS key of findings reports and SBOMs",
    "VULNERABILITY_GATE": "the deployment's severity gate (e.g. CRITICAL=0,HIGH=5)",
    "BACKUP_BUCKET_NAME": "the bucket of AMI backups made at approval",
    "PRODUCTION_CHANNEL_TABLE_NAME": "the table of production channels (approved releases per stack tag and product)",
    "OPERATIONS_TOPIC_ARN": "the topic of the reconciler's and garbage collector's reports",
    "TEST_INSTANCE_MAX_RUNTIME_HOURS": "hours after which a test instance is terminated by the garbage collector",
    "PATCH_INFRASTRUCTURE_JSON": "where patch builds run: instance profile, types, subnet, security groups, "
                                 "Image Builder topic, volume size, resource tags (JSON object)",
    "PATCH_COMPONENT_BUCKET": "the bucket patch component documents are uploaded to",
    "EXPORT_BUCKET_NAME": "the bucket VM Import/Export writes exported disks to",
    "VMIMPORT_ROLE_NAME": "the VM Import/Export service role (ExportImage takes its name)",
    "EXPORT_LINK_EXPIRY_SECS": "how long a presigned link to an exported disk stays valid (seconds)",
    "QA_TOPIC_ARN": "the topic of QA certification requests",
    "QA_KEY_SECRET_NAME": "the Secrets Manager name of the QA certification key (named, never read)",
    "API_URL_PARAMETER_NAME": "the SSM parameter holding the API's base URL",
    "VMDK_EXPORT_STATE_MACHINE_ARN": "the standalone VMDK export pipeline's state machine",
    "VMDK_EXPORT_TOPIC_ARN": "the topic of finished standalone VMDK exports",
    "CREATION_RECEIVER_QUEUE_URL": "the creation receiver queue (verdicts recorded by the API are applied to AMIs there)",
})
# Kept for callers that list what a complete API function environment holds.
REQUIRED_VARIABLES = ("STACK_TAG",)


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or malformed (a deployment fault, not a request fault)."""


@dataclass(frozen=True)
class RuntimeConfig:
    """The deployment as one function sees it.

    Attributes read a variable the function was given; one it was not given
    raises :class:`ConfigurationError` naming it. ``api_key_names`` maps a
    cdk.json key setting (``ami_creation_post_secret_name``) to its secret
    leaf (``ami_creation_post_api_key``); ``state_machines`` maps an event to
    the ARN of the state machine that runs it.
    """

    values: Mapping[str, str]
    state_machine_max_wait_value: timedelta | None = None
    api_key_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    state_machines: Mapping[EventName, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "RuntimeConfig":
        """Read and check the variables; every problem is reported at once."""
        env = os.environ if environ is None else environ
        values = {name: str(env.get(name) or "").strip() for name in VARIABLES}
        values = {name: value for name, value in values.items() if value}
        problems: list[str] = []
        if "STACK_TAG" not in values:
            problems.append("STACK_TAG: missing (required)")
        max_wait = _minutes(values.get("STATE_MACHINE_MAX_WAIT_MINUTES"), problems)
        seed = values.get("DEFAULT_SEMVER_SEED")
        if seed is not None:
            try:
                parse_version(seed, field="DEFAULT_SEMVER_SEED")
            except ValidationError as error:
                problems.append(error.message)
        key_names = _string_map(values.get("API_KEY_NAMES_JSON"), "API_KEY_NAMES_JSON",
                                "key setting -> secret leaf", problems)
        machines: dict[EventName, str] = {}
        for name, arn in _string_map(values.get("EVENT_STATE_MACHINES_JSON"), "EVENT_STATE_MACHINES_JSON",
                                     "event name -> state machine ARN", problems).items():
            try:
                machines[parse_event_name(name, field="EVENT_STATE_MACHINES_JSON")] = arn
            except ValidationError as error:
                problems.append(error.message)
        if problems:
            raise ConfigurationError("function environment is not usable: " + "; ".join(problems))
        return cls(values=MappingProxyType(values), state_machine_max_wait_value=max_wait,
                   api_key_names=MappingProxyType(key_names), state_machines=MappingProxyType(machines))

    # ---------------------------------------------------------------- access

    def require(self, name: str) -> str:
        """The value of variable ``name``; :class:`ConfigurationError` when this function was not given it."""
        value = self.values.get(name)
        if value is None:
            raise ConfigurationError(f"function environment is not usable: {name}: missing (this function "
                                     f"needs {VARIABLES.get(name, name)})")
        return value

    def optional(self, name: str) -> str | None:
        return self.values.get(name)

    stack_tag = property(lambda self: self.require("STACK_TAG"))
    state_table_name = property(lambda self: self.require("STATE_TABLE_NAME"))
    semver_seed_table_name = property(lambda self: self.require("SEMVER_SEED_TABLE_NAME"))
    lookup_table_name = property(lambda self: self.require("LOOKUP_TABLE_NAME"))
    notification_topic_arn = property(lambda self: self.require("NOTIFICATION_TOPIC_ARN"))
    api_key_secret_prefix = property(lambda self: self.require("API_KEY_SECRET_PREFIX"))
    default_semver_seed = property(lambda self: self.require("DEFAULT_SEMVER_SEED"))
    tagger_role_name = property(lambda self: self.require("TAGGER_ROLE_NAME"))
    imagebuilder_pipeline_arn = property(lambda self: self.require("IMAGEBUILDER_PIPELINE_ARN"))
    event_log_group_name = property(lambda self: self.require("EVENT_LOG_GROUP_NAME"))
    build_waits_table_name = property(lambda self: self.require("BUILD_WAITS_TABLE_NAME"))
    patch_infrastructure_json = property(lambda self: self.require("PATCH_INFRASTRUCTURE_JSON"))
    patch_component_bucket = property(lambda self: self.require("PATCH_COMPONENT_BUCKET"))

    @property
    def state_machine_max_wait(self) -> timedelta:
        if self.state_machine_max_wait_value is None:
            self.require("STATE_MACHINE_MAX_WAIT_MINUTES")
        assert self.state_machine_max_wait_value is not None
        return self.state_machine_max_wait_value

    def state_machine_arn(self, event: Any) -> str | None:
        """The ARN of the state machine that runs ``event`` here, or ``None`` when none is deployed."""
        return self.state_machines.get(EventName(event))

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


def _string_map(raw: str | None, name: str, shape: str, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        problems.append(f"{name}: expected a JSON object of {shape}, got invalid JSON")
        return {}
    if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in parsed.items()):
        problems.append(f"{name}: expected a JSON object of non-empty strings ({shape})")
        return {}
    return dict(parsed)
