"""State and behaviour of the simulated EC2 Image Builder.

Resources (components, image recipes, infrastructure and distribution
configurations, image pipelines) are kept as the API objects ``Get*`` returns,
so a response is the stored object and a list response is the same objects
trimmed to the summary shape by the serializer. Builds (images) live in
:mod:`.builds`, which moves them through the real image states on timers.

One backend per (account, region), like moto's ``BackendDict``; one lock for
the whole module because builds finish on timer threads.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import yaml

from .exceptions import (
    IdempotentParameterMismatchException,
    InvalidParameterValueException,
    InvalidRequestException,
    InvalidVersionNumberException,
    ResourceAlreadyExistsException,
    ResourceDependencyException,
    ResourceInUseException,
    ResourceNotFoundException,
)

COMPONENT = "component"
IMAGE_RECIPE = "image-recipe"
INFRASTRUCTURE_CONFIGURATION = "infrastructure-configuration"
DISTRIBUTION_CONFIGURATION = "distribution-configuration"
IMAGE_PIPELINE = "image-pipeline"
IMAGE = "image"

NAME_PATTERN = re.compile(r"^[-_A-Za-z-0-9][-_A-Za-z0-9 ]{1,126}[-_A-Za-z-0-9]$")
VERSION_PATTERN = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
AMI_NAME_PATTERN = re.compile(r"^[-_A-Za-z0-9{][-_A-Za-z0-9\s:{}\.]+[-_A-Za-z0-9}]$")
ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):imagebuilder:(?P<region>[^:]+):(?P<account>[0-9]{12}|aws):"
    r"(?P<kind>[a-z-]+)/(?P<name>[a-z0-9-_]+)(?:/(?P<version>[0-9x]+\.[0-9x]+\.[0-9x]+)(?:/(?P<build>[0-9]+))?)?$"
)
DEFAULT_DISTRIBUTION_TIMEOUT_MINUTES = 720
DEFAULT_TEST_TIMEOUT_MINUTES = 720

lock = threading.RLock()


def now_iso() -> str:
    """Image Builder's ``dateCreated`` format: ISO 8601, milliseconds, ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def arn_segment(name: str) -> str:
    """ARNs carry the resource name lower-cased with spaces turned to dashes."""
    return name.lower().replace(" ", "-")


def make_arn(kind: str, region: str, account_id: str, name: str, *nodes: str | int) -> str:
    suffix = "".join(f"/{node}" for node in nodes)
    return f"arn:aws:imagebuilder:{region}:{account_id}:{kind}/{arn_segment(name)}{suffix}"


def parse_arn(arn: str) -> dict[str, str] | None:
    match = ARN_PATTERN.match(arn or "")
    return match.groupdict() if match else None


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass
class Resource:
    """One Image Builder resource, stored as the object its ``Get*`` returns."""

    kind: str
    arn: str
    name: str
    body: dict[str, Any]


@dataclass
class ImageBuilderBackend:
    account_id: str
    region: str
    resources: dict[str, Resource] = field(default_factory=dict)
    images: dict[str, Any] = field(default_factory=dict)  # build version ARN -> builds.ImageBuild
    build_numbers: dict[str, int] = field(default_factory=dict)  # image version ARN -> last build
    idempotency: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)

    # ---- idempotency -------------------------------------------------
    def idempotent(self, operation: str, params: dict[str, Any],
                   create: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Replay the first answer for a repeated ``clientToken``, as the
        service does; the same token with other parameters is refused."""
        token = params.get("clientToken")
        if not token:
            raise InvalidRequestException("The clientToken parameter is required.")
        fingerprint = hashlib.sha256(
            json.dumps({k: v for k, v in params.items() if k != "clientToken"},
                       sort_keys=True, default=str).encode()
        ).hexdigest()
        seen = self.idempotency.get((operation, token))
        if seen is not None:
            if seen[0] != fingerprint:
                raise IdempotentParameterMismatchException(token)
            return seen[1]
        result = create()
        self.idempotency[(operation, token)] = (fingerprint, result)
        return result

    # ---- lookups -----------------------------------------------------
    def get(self, kind: str, arn: str) -> Resource:
        resource = self.resources.get(arn)
        if resource is not None and resource.kind == kind:
            return resource
        if kind == COMPONENT:
            resolved = self._latest_component(arn)
            if resolved is not None:
                return resolved
        raise ResourceNotFoundException(arn)

    def _latest_component(self, arn: str) -> Resource | None:
        """A component version ARN (``1.0.0`` or ``x.x.x``) names its latest build."""
        parsed = parse_arn(arn)
        if not parsed or parsed["kind"] != COMPONENT or parsed["build"]:
            return None
        wanted = (parsed["version"] or "x.x.x").split(".")
        candidates = []
        for resource in self.resources.values():
            if resource.kind != COMPONENT:
                continue
            other = parse_arn(resource.arn)
            if other is None or other["name"] != parsed["name"]:
                continue
            got = other["version"].split(".")
            if all(w in ("x", g) for w, g in zip(wanted, got)):
                candidates.append(resource)
        if not candidates:
            return None
        return max(candidates, key=lambda r: (version_key(r.body["version"]), int(parse_arn(r.arn)["build"])))

    def list(self, kind: str) -> list[Resource]:
        return sorted((r for r in self.resources.values() if r.kind == kind), key=lambda r: r.arn)

    def _refuse_duplicate(self, arn: str, kind: str, name: str, error: type) -> None:
        if arn in self.resources:
            raise error(f"The {kind} '{name}' already exists with ARN '{arn}'.")

    # ---- components --------------------------------------------------
    def create_component(self, params: dict[str, Any], data: str) -> Resource:
        name = _valid_name(params["name"])
        version = _valid_version(params["semanticVersion"])
        arn = make_arn(COMPONENT, self.region, self.account_id, name, version, 1)
        self._refuse_duplicate(arn, "component version", f"{name} {version}", ResourceInUseException)
        body = _without(params, "semanticVersion", "uri")
        body.update({
            "arn": arn, "name": name, "version": version, "data": data,
            "type": _component_type(data), "owner": self.account_id,
            "encrypted": True, "dateCreated": now_iso(), "state": {"status": "ACTIVE"},
            "tags": params.get("tags") or {},
        })
        resource = Resource(COMPONENT, arn, name, body)
        self.resources[arn] = resource
        return resource

    # ---- image recipes -----------------------------------------------
    def create_image_recipe(self, params: dict[str, Any]) -> Resource:
        name = _valid_name(params["name"])
        version = _valid_version(params["semanticVersion"])
        arn = make_arn(IMAGE_RECIPE, self.region, self.account_id, name, version)
        self._refuse_duplicate(arn, "image recipe", f"{name} {version}", ResourceAlreadyExistsException)
        components = params.get("components") or []
        if not components:
            raise InvalidRequestException("An image recipe needs at least one component in 'components'.")
        platforms = {self._component_platform(c["componentArn"]) for c in components} - {None}
        body = _without(params, "semanticVersion")
        body.update({
            "arn": arn, "name": name, "version": version, "type": "AMI",
            "platform": platforms.pop() if len(platforms) == 1 else "Linux",
            "owner": self.account_id, "dateCreated": now_iso(), "tags": params.get("tags") or {},
        })
        resource = Resource(IMAGE_RECIPE, arn, name, body)
        self.resources[arn] = resource
        return resource

    def _component_platform(self, component_arn: str) -> str | None:
        parsed = parse_arn(component_arn)
        if parsed is None or parsed["kind"] != COMPONENT:
            raise InvalidParameterValueException(
                f"componentArn '{component_arn}' is not an Image Builder component ARN "
                "(arn:aws:imagebuilder:<region>:<account|aws>:component/<name>/<version>[/<build>])."
            )
        if parsed["account"] == "aws":
            return None  # AWS-managed components are accepted as they are
        return self.get(COMPONENT, component_arn).body.get("platform")

    # ---- infrastructure / distribution configurations ----------------
    def create_infrastructure_configuration(self, params: dict[str, Any]) -> Resource:
        name = _valid_name(params["name"])
        arn = make_arn(INFRASTRUCTURE_CONFIGURATION, self.region, self.account_id, name)
        self._refuse_duplicate(arn, "infrastructure configuration", name, ResourceAlreadyExistsException)
        body = dict(params)
        body.update({"arn": arn, "name": name, "dateCreated": now_iso(), "tags": params.get("tags") or {}})
        body.setdefault("terminateInstanceOnFailure", True)
        resource = Resource(INFRASTRUCTURE_CONFIGURATION, arn, name, body)
        self.resources[arn] = resource
        return resource

    def create_distribution_configuration(self, params: dict[str, Any]) -> Resource:
        name = _valid_name(params["name"])
        arn = make_arn(DISTRIBUTION_CONFIGURATION, self.region, self.account_id, name)
        self._refuse_duplicate(arn, "distribution configuration", name, ResourceAlreadyExistsException)
        _validate_distributions(params.get("distributions"))
        body = dict(params)
        body.update({
            "arn": arn, "name": name, "dateCreated": now_iso(),
            "timeoutMinutes": DEFAULT_DISTRIBUTION_TIMEOUT_MINUTES, "tags": params.get("tags") or {},
        })
        resource = Resource(DISTRIBUTION_CONFIGURATION, arn, name, body)
        self.resources[arn] = resource
        return resource

    # ---- image pipelines ---------------------------------------------
    def create_image_pipeline(self, params: dict[str, Any]) -> Resource:
        name = _valid_name(params["name"])
        arn = make_arn(IMAGE_PIPELINE, self.region, self.account_id, name)
        self._refuse_duplicate(arn, "image pipeline", name, ResourceAlreadyExistsException)
        if not params.get("imageRecipeArn"):
            raise InvalidRequestException("An AMI pipeline needs 'imageRecipeArn' (container recipes are not simulated).")
        recipe = self.get(IMAGE_RECIPE, params["imageRecipeArn"])
        self.get(INFRASTRUCTURE_CONFIGURATION, params["infrastructureConfigurationArn"])
        if params.get("distributionConfigurationArn"):
            self.get(DISTRIBUTION_CONFIGURATION, params["distributionConfigurationArn"])
        body = dict(params)
        body.update({
            "arn": arn, "name": name, "platform": recipe.body["platform"],
            "dateCreated": now_iso(), "tags": params.get("tags") or {},
        })
        body.setdefault("status", "ENABLED")
        body.setdefault("enhancedImageMetadataEnabled", True)
        tests = dict(body.get("imageTestsConfiguration") or {})
        tests.setdefault("imageTestsEnabled", True)
        tests.setdefault("timeoutMinutes", DEFAULT_TEST_TIMEOUT_MINUTES)
        body["imageTestsConfiguration"] = tests
        resource = Resource(IMAGE_PIPELINE, arn, name, body)
        self.resources[arn] = resource
        return resource

    # ---- updates (used by CloudFormation stack updates as well) ------
    def update(self, kind: str, arn: str, params: dict[str, Any]) -> Resource:
        resource = self.get(kind, arn)
        if kind == DISTRIBUTION_CONFIGURATION:
            _validate_distributions(params.get("distributions"))
        if kind == IMAGE_PIPELINE:
            self.get(IMAGE_RECIPE, params.get("imageRecipeArn") or resource.body["imageRecipeArn"])
            self.get(INFRASTRUCTURE_CONFIGURATION,
                     params.get("infrastructureConfigurationArn") or resource.body["infrastructureConfigurationArn"])
            if params.get("distributionConfigurationArn"):
                self.get(DISTRIBUTION_CONFIGURATION, params["distributionConfigurationArn"])
        own_arn_key = {
            INFRASTRUCTURE_CONFIGURATION: "infrastructureConfigurationArn",
            DISTRIBUTION_CONFIGURATION: "distributionConfigurationArn",
            IMAGE_PIPELINE: "imagePipelineArn",
        }.get(kind)
        for key, value in params.items():
            if key not in ("clientToken", "dryRun", "name", "tags", own_arn_key):
                resource.body[key] = value
        resource.body["dateUpdated"] = now_iso()
        return resource

    # ---- deletes -------------------------------------------------------
    def delete(self, kind: str, arn: str) -> Resource:
        resource = self.get(kind, arn)
        users = self._users_of(resource)
        if users:
            raise ResourceDependencyException(
                f"The {kind} '{resource.arn}' is still used by {', '.join(users)}; delete those first."
            )
        del self.resources[resource.arn]
        return resource

    def _users_of(self, resource: Resource) -> list[str]:
        if resource.kind == COMPONENT:
            return [
                recipe.arn for recipe in self.list(IMAGE_RECIPE)
                if any(self._names_component(c["componentArn"], resource) for c in recipe.body.get("components", []))
            ]
        field_by_kind = {
            IMAGE_RECIPE: "imageRecipeArn",
            INFRASTRUCTURE_CONFIGURATION: "infrastructureConfigurationArn",
            DISTRIBUTION_CONFIGURATION: "distributionConfigurationArn",
        }
        key = field_by_kind.get(resource.kind)
        if key is None:
            return []
        return [p.arn for p in self.list(IMAGE_PIPELINE) if p.body.get(key) == resource.arn]

    def _names_component(self, component_arn: str, resource: Resource) -> bool:
        if component_arn == resource.arn:
            return True
        return self._latest_component(component_arn) is resource


def _without(params: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in keys and k not in ("clientToken", "dryRun")}


def _valid_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidParameterValueException(
            f"name '{name}' is not valid: use 3 to 128 letters, digits, '-', '_' or spaces, "
            "not starting or ending with a space."
        )
    return name


def _valid_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise InvalidVersionNumberException(
            f"semanticVersion '{version}' is not valid: use <major>.<minor>.<patch> with numbers only, e.g. 1.0.0."
        )
    return version


def _component_type(data: str) -> str:
    """A component whose phases are all ``test`` is a TEST component."""
    phases = {p.get("name") for p in yaml.safe_load(data).get("phases", []) if isinstance(p, dict)}
    return "TEST" if phases == {"test"} else "BUILD"


def validate_component_document(data: str) -> None:
    """Image Builder accepts only YAML component documents with a schema
    version and phases; a broken document is refused at creation, not at build."""
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as error:
        raise InvalidParameterValueException(f"The component document is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise InvalidParameterValueException("The component document must be a YAML mapping.")
    missing = [key for key in ("schemaVersion", "phases") if key not in document]
    if missing:
        raise InvalidParameterValueException(
            f"The component document lacks {', '.join(missing)}: a component needs 'schemaVersion' and 'phases'."
        )
    if not isinstance(document["phases"], list) or not document["phases"]:
        raise InvalidParameterValueException("The component document's 'phases' must be a non-empty list.")


def _validate_distributions(distributions: Any) -> None:
    if not isinstance(distributions, list) or not distributions:
        raise InvalidRequestException("'distributions' must list at least one region.")
    regions = [d.get("region") for d in distributions]
    if len(set(regions)) != len(regions):
        raise InvalidParameterValueException(f"Each region may appear once in 'distributions', got {regions}.")
    for distribution in distributions:
        ami = distribution.get("amiDistributionConfiguration") or {}
        name = ami.get("name")
        if name is not None and (len(name) > 127 or not AMI_NAME_PATTERN.match(name)):
            raise InvalidParameterValueException(
                f"amiDistributionConfiguration name '{name}' is not valid: 1 to 127 letters, digits, "
                "spaces and - _ : . { } (variables such as {{ imagebuilder:buildDate }} are allowed)."
            )


_backends: dict[tuple[str, str], ImageBuilderBackend] = {}


def backend(account_id: str, region: str) -> ImageBuilderBackend:
    with lock:
        key = (account_id, region)
        if key not in _backends:
            _backends[key] = ImageBuilderBackend(account_id, region)
        return _backends[key]


def all_backends() -> list[ImageBuilderBackend]:
    with lock:
        return list(_backends.values())


def replace_backends(backends: dict[tuple[str, str], ImageBuilderBackend]) -> None:
    with lock:
        _backends.clear()
        _backends.update(backends)


# ---- persistence (the server saves and restores every simulated service) --
def get_state() -> object:
    """Everything the service holds, picklable (timers are re-created on restore)."""
    with lock:
        return {"backends": dict(_backends)}


def set_state(state: object) -> None:
    from . import builds

    if not isinstance(state, dict) or not isinstance(state.get("backends"), dict):
        raise ValueError("imagebuilder state must be a dict with a 'backends' mapping, as get_state() returns")
    with lock:
        builds.stop_all()
        replace_backends(state["backends"])
        builds.resume_all(all_backends())


def reset() -> None:
    from . import builds

    with lock:
        builds.stop_all()
        _backends.clear()
