"""One typed view of the ``projectSettings`` block of cdk.json.

Every stack reads its knobs from :class:`Settings`; nothing else parses
cdk.json. Loading is strict: a missing key or a value of the wrong type
raises :class:`SettingsError` whose message names the dotted key and what
is expected, so ``cdk synth`` fails with one readable line instead of a
KeyError deep inside a construct.

The stack tag (the name of one deployment, used in physical names so that
several can live side by side in an account) comes from, in order: the
``STACK_TAG`` environment variable, the ``stackTag`` CDK context value
(``cdk synth -c stackTag=feature-x``), then ``projectSettings.stackTag``.
No git checkout is needed.

Any other setting can be changed for one synthesis without editing
cdk.json: a CDK context value named ``projectSettings.<dotted path>``
(``cdk synth -c projectSettings.amiLifecycle.stateMachines.smokeTestEventStateMachineSqsTimeoutMins=1``,
``bash deploy.sh --local -c ...``) replaces that one value
(:func:`apply_overrides`). The path must name an existing setting; the
value is read as that setting's type (a whole number, true/false, text, or
JSON for a list or an object) and then validated like the file's own.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

# Tag value on every resource of the product.
PROJECT_TAG = "ec2-imagebuilder-ami-lifecycle"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = PROJECT_ROOT / "cdk.json"

_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+$")


class SettingsError(ValueError):
    """A projectSettings value is missing or malformed."""


def slugify_stack_tag(raw: str) -> str:
    """Lower-case ``raw`` and replace every character outside [a-z0-9-] by '-'.

    This is the original's branch-name rule, kept so that a branch name can
    still be used as a stack tag; leading and trailing dashes are trimmed.
    """
    return re.sub(r"[^a-z0-9-]", "-", raw.strip().lower()).strip("-")


class _Reader:
    """Typed accessors over a nested mapping that report dotted key paths."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        if not isinstance(data, Mapping):
            raise SettingsError(f"{path}: expected an object, got {_kind(data)}")
        self._data = data
        self._path = path

    def _raw(self, key: str) -> Any:
        if key not in self._data:
            raise SettingsError(f"{self._path}.{key}: missing (required)")
        return self._data[key]

    def section(self, key: str) -> "_Reader":
        return _Reader(self._raw(key), f"{self._path}.{key}")

    def string(self, key: str, *, allow_empty: bool = False, pattern: re.Pattern | None = None,
               expected: str = "a non-empty string") -> str:
        value = self._raw(key)
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise SettingsError(f"{self._path}.{key}: expected {expected}, got {_kind(value)}")
        if pattern is not None and value and not pattern.match(value):
            raise SettingsError(f"{self._path}.{key}: expected {expected}, got {value!r}")
        return value

    def integer(self, key: str, *, minimum: int, maximum: int) -> int:
        value = self._raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise SettingsError(
                f"{self._path}.{key}: expected a whole number from {minimum} to {maximum}, got {_kind(value)}"
            )
        return value

    def string_list(self, key: str, *, pattern: re.Pattern | None = None, expected: str = "strings",
                    non_empty: bool = False) -> tuple[str, ...]:
        value = self._raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise SettingsError(f"{self._path}.{key}: expected a list of {expected}, got {_kind(value)}")
        if non_empty and not value:
            raise SettingsError(f"{self._path}.{key}: expected at least one entry, got an empty list")
        if pattern is not None:
            for item in value:
                if not pattern.match(item):
                    raise SettingsError(f"{self._path}.{key}: expected a list of {expected}, got {item!r}")
        return tuple(value)

    def string_map(self, key: str) -> dict[str, str]:
        value = self._raw(key)
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise SettingsError(f"{self._path}.{key}: expected an object of string values, got {_kind(value)}")
        return dict(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}" if value else "an empty string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True)
class VpcSettings:
    cidr: str
    max_azs: int
    subnet_mask: int


@dataclass(frozen=True)
class ImageBuilderSettings:
    base_image_arn: str
    ebs_volume_size: int
    instance_types: tuple[str, ...]
    recipe_version: str
    component_version: str
    email_address: str
    extra_tags: dict[str, str]
    ami_publishing_regions: tuple[str, ...]
    ami_publishing_target_ids: tuple[str, ...]
    ami_sharing_ids: tuple[str, ...]


@dataclass(frozen=True)
class ApiSettings:
    api_name: str
    stage_name: str
    throttling_burst_limit: int
    throttling_rate_limit: int
    internal_key_names: dict[str, str]
    external_key_names: dict[str, str]

    @property
    def all_key_names(self) -> dict[str, str]:
        """Setting name -> secret leaf name, internal and external keys together."""
        return {**self.internal_key_names, **self.external_key_names}


@dataclass(frozen=True)
class StateMachineTimeouts:
    build_mins: int
    smoke_tests_mins: int
    smoke_tests_sqs_mins: int
    vulnerability_scans_mins: int
    qa_certification_mins: int
    patch_mins: int
    mark_for_production_mins: int


@dataclass(frozen=True)
class LifecycleSettings:
    tagger_role_name: str
    api: ApiSettings
    state_machine_max_wait_mins: int
    default_semver_seed: str
    reconciler_schedule: str
    qa_email_address: str
    creation_receiver_timeout_mins: int
    patch_receiver_timeout_mins: int
    garbage_collector_rate_mins: int
    instance_max_runtime_hours: int
    logs_ship_delay_mins: int
    export_link_expiry_secs: int
    log_retention_days: int
    state_machines: StateMachineTimeouts
    severity_gate: str = "CRITICAL=0"


@dataclass(frozen=True)
class Settings:
    stack_tag: str
    vpc: VpcSettings
    image_builder: ImageBuilderSettings
    lifecycle: LifecycleSettings

    def stack_name(self, base: str) -> str:
        """The CloudFormation stack name of ``base`` for this deployment."""
        return f"{base}-{self.stack_tag}"

    def physical_name(self, base: str) -> str:
        """A physical resource name unique to this deployment's stack tag."""
        return f"{base}-{self.stack_tag}"


# The secret leaf names every deployment must define (spec 1.8 and 2.2).
INTERNAL_KEY_SETTINGS = (
    "ami_creation_post_secret_name",
    "ami_creation_put_secret_name",
    "ami_creation_status_secret_name",
    "ami_creation_timeline_secret_name",
    "ami_creation_receiver_secret_name",
    "ami_patch_receiver_secret_name",
    "ami_error_receiver_secret_name",
    "ami_patch_post_secret_name",
    "ami_patch_put_secret_name",
    "ami_patch_timeline_secret_name",
)
EXTERNAL_KEY_SETTINGS = (
    "ami_creation_qa_certification_secret_name",
    "ami_creation_mark_for_production_secret_name",
    "ami_patch_mark_for_production_secret_name",
    "ami_revoke_secret_name",
)
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
_SECRET_LEAF_RE = re.compile(r"^[A-Za-z0-9_+=.@-]{1,100}$")
_SCHEDULE_RE = re.compile(r"^(cron|rate)\(.+\)$")
_GATE_PART = r"\s*(CRITICAL|HIGH|MEDIUM|LOW|INFORMATIONAL|UNTRIAGED)\s*=\s*[0-9]+\s*"
_GATE_RE = re.compile(rf"^({_GATE_PART}(,{_GATE_PART})*)?$")


def _key_names(reader: _Reader, required: tuple[str, ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for key in required:
        names[key] = reader.string(key, pattern=_SECRET_LEAF_RE, expected="a secret name of letters, digits and _+=.@-")
    return names


def _resolve_stack_tag(configured: str, context_tag: str | None) -> str:
    for source, raw in (("STACK_TAG environment variable", os.environ.get("STACK_TAG")),
                        ("stackTag context value", context_tag),
                        ("projectSettings.stackTag", configured)):
        if raw:
            tag = slugify_stack_tag(raw)
            if not _SLUG_RE.match(tag):
                raise SettingsError(
                    f"{source}: expected 1-32 characters of a-z, 0-9 and '-' (after lower-casing), got {raw!r}"
                )
            return tag
    raise SettingsError("projectSettings.stackTag: missing (required): set it in cdk.json or export STACK_TAG")


def parse_settings(data: Mapping[str, Any], *, context_stack_tag: str | None = None) -> Settings:
    """Build :class:`Settings` from the ``projectSettings`` mapping."""
    root = _Reader(data, "projectSettings")

    vpc = root.section("vpc")
    cidr = vpc.string("cidr", expected="an IPv4 CIDR like 10.0.0.0/16")
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise SettingsError(f"projectSettings.vpc.cidr: expected an IPv4 CIDR like 10.0.0.0/16, got {cidr!r}") from None
    mask = vpc.section("subnets").integer("mask", minimum=16, maximum=28)
    if mask <= network.prefixlen:
        raise SettingsError(
            f"projectSettings.vpc.subnets.mask: expected a mask longer than the VPC's /{network.prefixlen}, got {mask}"
        )
    vpc_settings = VpcSettings(cidr=cidr, max_azs=vpc.integer("maxAzs", minimum=1, maximum=3), subnet_mask=mask)

    ib = root.section("imageBuilder")
    image_builder = ImageBuilderSettings(
        base_image_arn=ib.string("baseImageArn", expected="an Image Builder image name/version like amazon-linux-2023-x86/x.x.x"),
        ebs_volume_size=ib.integer("ebsVolumeSize", minimum=8, maximum=16384),
        instance_types=ib.string_list("instanceTypes", expected="EC2 instance types", non_empty=True),
        recipe_version=ib.string("recipe_version", pattern=_SEMVER_RE, expected="a version like 1.0.0"),
        component_version=ib.string("component_version", pattern=_SEMVER_RE, expected="a version like 1.0.0"),
        email_address=ib.string("imageBuilderEmailAddress", allow_empty=True, pattern=_EMAIL_RE,
                                expected="an email address or an empty string"),
        extra_tags=ib.string_map("extraTags"),
        ami_publishing_regions=ib.string_list("amiPublishingRegions", pattern=_REGION_RE, expected="AWS regions like eu-west-1"),
        ami_publishing_target_ids=ib.string_list("amiPublishingTargetIds", pattern=_ACCOUNT_RE, expected="12-digit account ids"),
        ami_sharing_ids=ib.string_list("amiSharingIds", pattern=_ACCOUNT_RE, expected="12-digit account ids"),
    )

    lc = root.section("amiLifecycle")
    api = lc.section("api")
    keys = api.section("security").section("api_keys")
    internal = _key_names(keys.section("internal"), INTERNAL_KEY_SETTINGS)
    external = _key_names(keys.section("external"), EXTERNAL_KEY_SETTINGS)
    leaves = list(internal.values()) + list(external.values())
    duplicates = sorted({leaf for leaf in leaves if leaves.count(leaf) > 1})
    if duplicates:
        raise SettingsError(
            f"projectSettings.amiLifecycle.api.security.api_keys: expected "
            f"{len(INTERNAL_KEY_SETTINGS) + len(EXTERNAL_KEY_SETTINGS)} distinct secret names, "
            f"got {', '.join(duplicates)} more than once"
        )
    api_settings = ApiSettings(
        api_name=api.string("apiName", pattern=re.compile(r"^[A-Za-z0-9-]{1,64}$"),
                            expected="1-64 letters, digits or '-'"),
        stage_name=api.string("apiStageName", pattern=re.compile(r"^[A-Za-z0-9_]{1,64}$"),
                              expected="1-64 letters, digits or '_'"),
        throttling_burst_limit=api.integer("throttlingBurstLimit", minimum=1, maximum=100000),
        throttling_rate_limit=api.integer("throttlingRateLimit", minimum=1, maximum=100000),
        internal_key_names=internal,
        external_key_names=external,
    )

    sm = lc.section("stateMachines")
    timeouts = StateMachineTimeouts(
        build_mins=sm.integer("amiBuildEventStateMachineTimeoutMins", minimum=1, maximum=1440),
        smoke_tests_mins=sm.integer("smokeTestEventStateMachineTimeoutMins", minimum=1, maximum=1440),
        smoke_tests_sqs_mins=sm.integer("smokeTestEventStateMachineSqsTimeoutMins", minimum=1, maximum=720),
        vulnerability_scans_mins=sm.integer("vulnerabilityScansEventStateMachineTimeoutMins", minimum=1, maximum=1440),
        qa_certification_mins=sm.integer("qaCertificationEventStateMachineTimeoutMins", minimum=1, maximum=1440),
        patch_mins=sm.integer("amiPatchEventStateMachineTimeoutMins", minimum=1, maximum=1440),
        mark_for_production_mins=sm.integer("markForProductionEventStateMachineTimeoutMins", minimum=1, maximum=1440),
    )
    retention = lc.integer("logRetentionDays", minimum=1, maximum=3653)
    if retention not in LOG_RETENTION_DAYS:
        raise SettingsError(
            f"projectSettings.amiLifecycle.logRetentionDays: expected one of "
            f"{', '.join(map(str, LOG_RETENTION_DAYS))}, got {retention}"
        )
    lifecycle = LifecycleSettings(
        tagger_role_name=lc.section("amiTagger").string(
            "taggerRole", pattern=re.compile(r"^[A-Za-z0-9+=,.@_-]{1,40}$"),
            expected="an IAM role name of at most 40 characters (the stack tag is appended)"),
        api=api_settings,
        state_machine_max_wait_mins=lc.integer("stateMachineMaxWaitTime", minimum=1, maximum=10080),
        default_semver_seed=lc.string("defaultAmiSemverSeed", pattern=_SEMVER_RE, expected="a version like 1.0.0"),
        reconciler_schedule=lc.string("dbToTagReconcilerCronExpr", pattern=_SCHEDULE_RE,
                                      expected="an EventBridge schedule like cron(0 0/3 * * ? *)"),
        qa_email_address=lc.string("qaNotificationEmailAddress", allow_empty=True, pattern=_EMAIL_RE,
                                   expected="an email address or an empty string"),
        creation_receiver_timeout_mins=lc.integer("amiCreationReceiverTimeout", minimum=1, maximum=720),
        patch_receiver_timeout_mins=lc.integer("amiPatchReceiverTimeout", minimum=1, maximum=720),
        garbage_collector_rate_mins=lc.integer("ec2GarbageCollectorRateMins", minimum=1, maximum=1440),
        instance_max_runtime_hours=lc.integer("lifecycleInstanceMaxRuntimeHours", minimum=1, maximum=168),
        logs_ship_delay_mins=lc.integer("ec2TestInstanceLogsShipDelay", minimum=0, maximum=60),
        export_link_expiry_secs=lc.integer("exportLinkExpiry", minimum=60, maximum=604800),
        log_retention_days=retention,
        state_machines=timeouts,
        severity_gate=lc.string("vulnerabilityScansSeverityGate", allow_empty=True, pattern=_GATE_RE,
                                expected="SEVERITY=N[,SEVERITY=N...] with SEVERITY one of CRITICAL, HIGH, MEDIUM, "
                                         "LOW, INFORMATIONAL, UNTRIAGED (e.g. CRITICAL=0,HIGH=5), or empty for no gate"),
    )
    return Settings(
        stack_tag=_resolve_stack_tag(root.string("stackTag"), context_stack_tag),
        vpc=vpc_settings,
        image_builder=image_builder,
        lifecycle=lifecycle,
    )


OVERRIDE_PREFIX = "projectSettings."


def context_overrides(context: Mapping[str, Any]) -> dict[str, Any]:
    """The ``projectSettings.<path>`` values of a CDK context, keyed by ``<path>``."""
    return {key[len(OVERRIDE_PREFIX):]: value for key, value in context.items()
            if isinstance(key, str) and key.startswith(OVERRIDE_PREFIX)}


def _coerce(current: Any, value: Any, where: str) -> Any:
    """``value`` (text from ``-c``, or already typed) as the type of the setting it replaces."""
    if not isinstance(value, str) or isinstance(current, str):
        return value
    text = value.strip()
    if isinstance(current, bool):
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if isinstance(current, int):
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{where}: expected a whole number, got {value!r}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise SettingsError(f"{where}: expected JSON ({_kind(current)} like the one in cdk.json), "
                            f"got {value!r}") from None


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (the projectSettings object) with each ``dotted.path: value`` of ``overrides`` replaced.

    A path that names no setting, or a whole group, is refused with the
    settings that exist there; the stack tag has its own ways (STACK_TAG,
    ``-c stackTag=...``, ``--stack-tag``). Values are validated afterwards
    by :func:`parse_settings`, like the file's.
    """
    result = copy.deepcopy(dict(data))
    for dotted, value in sorted(overrides.items()):
        where = f"{OVERRIDE_PREFIX}{dotted}"
        if dotted == "stackTag":
            raise SettingsError(f"{where}: the stack tag is not overridden this way; "
                                "use STACK_TAG, -c stackTag=TAG or --stack-tag TAG")
        *groups, leaf = dotted.split(".")
        node: Any = result
        path = "projectSettings"
        for group in groups:
            child = node.get(group)
            if not isinstance(child, dict):
                raise SettingsError(f"{where}: {path} has no group {group!r}; its groups: "
                                    f"{', '.join(k for k, v in node.items() if isinstance(v, dict)) or '(none)'}")
            node, path = child, f"{path}.{group}"
        if leaf not in node or isinstance(node[leaf], dict):
            raise SettingsError(f"{where}: {path} has no setting {leaf!r}; its settings: "
                                f"{', '.join(k for k, v in node.items() if not isinstance(v, dict))}")
        node[leaf] = _coerce(node[leaf], value, where)
    return result


def load_settings(path: Path | None = None, *, context_stack_tag: str | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read cdk.json (or ``path``) and return its validated ``projectSettings``, with ``overrides``
    (``{dotted path: value}``, see :func:`apply_overrides`) applied first."""
    path = path or CDK_JSON
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: not found") from None
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if "projectSettings" not in document:
        raise SettingsError(f"{path}: missing the projectSettings object")
    return parse_settings(apply_overrides(document["projectSettings"], overrides or {}),
                          context_stack_tag=context_stack_tag)


def load_cdk_context(path: Path | None = None) -> dict[str, Any]:
    """The ``context`` block of cdk.json: what the CDK CLI hands the app."""
    path = path or CDK_JSON
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))
