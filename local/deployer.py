"""Deploy a synthesized CDK app (cdk.out) into the local cloud, as
``cdk deploy`` does into AWS.

Everything comes from the cloud assembly: ``manifest.json`` names the
stacks, their templates, parameters, tags and dependencies; each
``*.assets.json`` names the file assets and where they go. The deployer

1. bootstraps the environment (the CDK's asset bucket
   ``cdk-<qualifier>-assets-<account>-<region>`` and the SSM parameter
   ``/cdk-bootstrap/<qualifier>/version`` the templates check);
2. publishes the file assets (directories zipped reproducibly, files as
   they are) to the bucket and key their manifest names;
3. creates or updates each stack through the CloudFormation API, in
   dependency order, waits for it to settle and, if it fails, raises with
   the failing resources' reasons from the stack events.

``destroy`` deletes the stacks in the reverse order. There is no list of
resources here: what the templates say is what gets deployed.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

DEFAULT_QUALIFIER = "hnb659fds"
# What the current CDK bootstrap template sets; templates require >= 6.
BOOTSTRAP_VERSION = "30"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
POLL_SECONDS = 0.25
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

Printer = Callable[[str], None]
ClientFactory = Callable[[str], Any]


class DeployError(Exception):
    """Deployment cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class FileAsset:
    asset_id: str
    source: Path
    packaging: str
    destinations: tuple[tuple[str, str], ...]  # (bucket, key), placeholders unresolved


@dataclass(frozen=True)
class StackArtifact:
    artifact_id: str
    stack_name: str
    template_file: Path
    parameters: dict[str, str]
    tags: dict[str, str]
    dependencies: tuple[str, ...]
    assets: tuple[FileAsset, ...]
    environment: str

    def template_body(self) -> str:
        return self.template_file.read_text()


@dataclass
class CloudAssembly:
    directory: Path
    stacks: list[StackArtifact] = field(default_factory=list)

    def in_dependency_order(self) -> list[StackArtifact]:
        by_id = {stack.artifact_id: stack for stack in self.stacks}
        ordered: list[StackArtifact] = []
        visiting: set[str] = set()

        def visit(stack: StackArtifact) -> None:
            if stack in ordered:
                return
            if stack.artifact_id in visiting:
                raise DeployError(f"stacks depend on each other in a cycle through {stack.artifact_id}")
            visiting.add(stack.artifact_id)
            for dependency in stack.dependencies:
                if dependency in by_id:
                    visit(by_id[dependency])
            visiting.discard(stack.artifact_id)
            ordered.append(stack)

        for stack in self.stacks:
            visit(stack)
        return ordered

    def select(self, names: Iterable[str]) -> list[StackArtifact]:
        """The named stacks (artifact id or stack name) and what they
        depend on, in dependency order; all stacks when ``names`` is empty."""
        wanted = list(names)
        ordered = self.in_dependency_order()
        if not wanted:
            return ordered
        by_name = {s.artifact_id: s for s in ordered} | {s.stack_name: s for s in ordered}
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            raise DeployError(f"no stack named {', '.join(unknown)} in {self.directory}; "
                              f"stacks: {', '.join(s.artifact_id for s in ordered)}")
        needed: set[str] = set()

        def need(stack: StackArtifact) -> None:
            if stack.artifact_id not in needed:
                needed.add(stack.artifact_id)
                for dependency in stack.dependencies:
                    if dependency in by_name:
                        need(by_name[dependency])

        for name in wanted:
            need(by_name[name])
        return [stack for stack in ordered if stack.artifact_id in needed]


def load_assembly(directory: Path) -> CloudAssembly:
    """Read ``manifest.json`` (and nested assemblies of CDK stages)."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise DeployError(f"{manifest_path} not found: synthesize first (npx cdk synth -o {directory})")
    assembly = CloudAssembly(directory=directory)
    _read_manifest(directory, assembly)
    if not assembly.stacks:
        raise DeployError(f"{manifest_path} contains no CloudFormation stack")
    return assembly


def _read_manifest(directory: Path, assembly: CloudAssembly) -> None:
    artifacts = json.loads((directory / "manifest.json").read_text()).get("artifacts", {})
    asset_manifests = {
        artifact_id: _read_assets(directory / artifact["properties"]["file"])
        for artifact_id, artifact in artifacts.items() if artifact.get("type") == "cdk:asset-manifest"
    }
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        properties = artifact.get("properties", {})
        if kind == "cdk:cloud-assembly":
            _read_manifest(directory / properties["directoryName"], assembly)
        elif kind == "aws:cloudformation:stack":
            dependencies = tuple(artifact.get("dependencies", []))
            assembly.stacks.append(StackArtifact(
                artifact_id=artifact_id,
                stack_name=properties.get("stackName", artifact_id),
                template_file=directory / properties["templateFile"],
                parameters=dict(properties.get("parameters", {})),
                tags=dict(properties.get("tags", {})),
                dependencies=tuple(d for d in dependencies if d not in asset_manifests),
                assets=tuple(asset for d in dependencies for asset in asset_manifests.get(d, ())),
                environment=artifact.get("environment", "aws://unknown-account/unknown-region"),
            ))


def _read_assets(path: Path) -> tuple[FileAsset, ...]:
    document = json.loads(path.read_text())
    if document.get("dockerImages"):
        raise DeployError(
            f"{path.name} has Docker image assets ({', '.join(document['dockerImages'])}): the local cloud "
            "runs without Docker; use Code.from_asset with local bundling instead"
        )
    assets = []
    for asset_id, asset in document.get("files", {}).items():
        source = asset["source"]
        if "path" not in source:
            raise DeployError(f"asset {asset_id} in {path.name} is built by a command ({source}); "
                              "only file and directory assets are supported")
        assets.append(FileAsset(
            asset_id=asset_id,
            source=path.parent / source["path"],
            packaging=source.get("packaging", "file"),
            destinations=tuple((d["bucketName"], d["objectKey"]) for d in asset["destinations"].values()),
        ))
    return tuple(assets)


def zip_directory(directory: Path) -> bytes:
    """A reproducible zip of ``directory`` (sorted entries, fixed dates,
    executable bits kept), like the CDK's asset zips."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=_ZIP_EPOCH)
                mode = path.stat().st_mode
                info.external_attr = ((0o755 if mode & stat.S_IXUSR else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _substitute(text: str, account: str, region: str) -> str:
    return (text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)
            .replace("${AWS::Partition}", "aws"))


@dataclass(frozen=True)
class DeployedStack:
    stack_name: str
    status: str
    outputs: dict[str, str]
    changed: bool


class Deployer:
    """Drives the CloudFormation, S3 and SSM APIs of one local cloud."""

    def __init__(self, client: ClientFactory, account: str, region: str, echo: Printer = print,
                 timeout: float = 900.0) -> None:
        self.client = client
        self.account = account
        self.region = region
        self.echo = echo
        self.timeout = timeout

    # -- bootstrap and assets ------------------------------------------------

    def bootstrap(self, qualifier: str = DEFAULT_QUALIFIER) -> str:
        bucket = f"cdk-{qualifier}-assets-{self.account}-{self.region}"
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
            self.echo(f"bootstrap: created bucket {bucket}")
        self.client("ssm").put_parameter(Name=f"/cdk-bootstrap/{qualifier}/version", Value=BOOTSTRAP_VERSION,
                                         Type="String", Overwrite=True)
        return bucket

    def publish(self, assets: Iterable[FileAsset]) -> int:
        s3 = self.client("s3")
        published = 0
        for asset in assets:
            for bucket, key in asset.destinations:
                bucket = _substitute(bucket, self.account, self.region)
                key = _substitute(key, self.account, self.region)
                try:
                    s3.head_object(Bucket=bucket, Key=key)
                    continue  # content-addressed: already there means identical
                except ClientError:
                    pass
                if not asset.source.exists():
                    raise DeployError(f"asset {asset.asset_id}: {asset.source} does not exist; synthesize again")
                body = zip_directory(asset.source) if asset.packaging == "zip" else asset.source.read_bytes()
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                published += 1
        return published

    # -- stacks ----------------------------------------------------------------

    def _describe(self, stack_name: str) -> dict[str, Any] | None:
        try:
            return self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise

    def _wait(self, stack_name: str, stack_id: str, since: Any = None) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            stack = self._describe(stack_id)
            if stack is None:
                return {"StackName": stack_name, "StackStatus": "DELETE_COMPLETE"}
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                return stack
            time.sleep(POLL_SECONDS)
        raise DeployError(f"{stack_name} did not settle within {self.timeout:.0f} s; "
                          f"see: aws cloudformation describe-stack-events --stack-name {stack_name}")

    def failure_reasons(self, stack_id: str) -> list[str]:
        """The failed resources' reasons, oldest first."""
        events = self.client("cloudformation").describe_stack_events(StackName=stack_id)["StackEvents"]
        reasons = []
        for event in sorted(events, key=lambda e: e["Timestamp"]):
            if event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceStatusReason"):
                reasons.append(f"{event['LogicalResourceId']} ({event['ResourceType']}) "
                               f"{event['ResourceStatus']}: {event['ResourceStatusReason']}")
        return reasons

    def _fail(self, stack_name: str, stack: dict[str, Any]) -> DeployError:
        reasons = self.failure_reasons(stack["StackId"]) or [stack.get("StackStatusReason") or "no reason recorded"]
        return DeployError(f"{stack_name} ended {stack['StackStatus']}:\n  " + "\n  ".join(reasons))

    def deploy_stack(self, artifact: StackArtifact) -> DeployedStack:
        cfn = self.client("cloudformation")
        name = artifact.stack_name
        body = artifact.template_body()
        parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(artifact.parameters.items())]
        tags = [{"Key": k, "Value": v} for k, v in sorted(artifact.tags.items())]
        existing = self._describe(name)
        if existing and existing["StackStatus"].endswith("_IN_PROGRESS"):
            existing = self._wait(name, existing["StackId"])
        if existing and existing["StackStatus"] in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"):
            self.echo(f"{name}: removing the failed previous attempt ({existing['StackStatus']})")
            cfn.delete_stack(StackName=existing["StackId"])
            gone = self._wait(name, existing["StackId"])
            if gone["StackStatus"] != "DELETE_COMPLETE":
                raise self._fail(name, gone)
            existing = None
        if existing is None or existing["StackStatus"] == "DELETE_COMPLETE":
            self.echo(f"{name}: creating")
            stack_id = cfn.create_stack(StackName=name, TemplateBody=body, Parameters=parameters, Tags=tags,
                                        Capabilities=CAPABILITIES)["StackId"]
            final = self._wait(name, stack_id)
            if final["StackStatus"] != "CREATE_COMPLETE":
                raise self._fail(name, final)
            return self._deployed(final, changed=True)
        current = cfn.get_template(StackName=existing["StackId"])["TemplateBody"]
        if _same_template(current, body) and _same_parameters(existing, artifact.parameters):
            self.echo(f"{name}: no changes")
            return self._deployed(existing, changed=False)
        self.echo(f"{name}: updating")
        try:
            cfn.update_stack(StackName=existing["StackId"], TemplateBody=body, Parameters=parameters, Tags=tags,
                             Capabilities=CAPABILITIES)
        except ClientError as error:
            if "No updates are to be performed" in str(error):
                return self._deployed(existing, changed=False)
            raise
        final = self._wait(name, existing["StackId"])
        if final["StackStatus"] != "UPDATE_COMPLETE":
            raise self._fail(name, final)
        return self._deployed(final, changed=True)

    @staticmethod
    def _deployed(stack: dict[str, Any], changed: bool) -> DeployedStack:
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
        return DeployedStack(stack_name=stack["StackName"], status=stack["StackStatus"], outputs=outputs,
                             changed=changed)

    def destroy_stack(self, artifact: StackArtifact) -> bool:
        """Delete the stack; False when it did not exist."""
        existing = self._describe(artifact.stack_name)
        if existing is None:
            return False
        self.echo(f"{artifact.stack_name}: deleting")
        self.client("cloudformation").delete_stack(StackName=existing["StackId"])
        final = self._wait(artifact.stack_name, existing["StackId"])
        if final["StackStatus"] != "DELETE_COMPLETE":
            raise self._fail(artifact.stack_name, final)
        return True


def _same_template(current: Any, body: str) -> bool:
    current_dict = current if isinstance(current, dict) else json.loads(current)
    return current_dict == json.loads(body)


def _same_parameters(stack: dict[str, Any], wanted: dict[str, str]) -> bool:
    have = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return all(have.get(key) == value for key, value in wanted.items())


def _check_environment(artifact: StackArtifact, account: str, region: str, echo: Printer) -> None:
    target = artifact.environment.removeprefix("aws://").split("/")
    if len(target) == 2:
        target_account, target_region = target
        if target_account not in ("unknown-account", account):
            echo(f"{artifact.artifact_id}: synthesized for account {target_account}; deploying into the local "
                 f"account {account}")
        if target_region not in ("unknown-region", region):
            raise DeployError(f"{artifact.artifact_id} is synthesized for region {target_region} but the local cloud "
                              f"serves {region}: set LOCAL_CLOUD_REGION={target_region} or synthesize for {region}")


def _qualifier(artifact: StackArtifact) -> str:
    template = json.loads(artifact.template_body())
    default = template.get("Parameters", {}).get("BootstrapVersion", {}).get("Default", "")
    parts = default.strip("/").split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "cdk-bootstrap" else DEFAULT_QUALIFIER


def deploy(assembly: CloudAssembly, deployer: Deployer, names: Iterable[str] = ()) -> list[DeployedStack]:
    """Bootstrap, publish and deploy the selected stacks in order."""
    selected = assembly.select(names)
    for qualifier in sorted({_qualifier(artifact) for artifact in selected}):
        deployer.bootstrap(qualifier)
    results = []
    for artifact in selected:
        _check_environment(artifact, deployer.account, deployer.region, deployer.echo)
        published = deployer.publish(artifact.assets)
        if published:
            deployer.echo(f"{artifact.stack_name}: published {published} asset(s)")
        results.append(deployer.deploy_stack(artifact))
    return results


def destroy(assembly: CloudAssembly, deployer: Deployer, names: Iterable[str] = ()) -> list[str]:
    """Delete the selected stacks (all by default), dependents first."""
    wanted = list(names)
    ordered = assembly.in_dependency_order()
    if wanted:
        by_name = {s.artifact_id: s for s in ordered} | {s.stack_name: s for s in ordered}
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            raise DeployError(f"no stack named {', '.join(unknown)} in {assembly.directory}")
        ordered = [s for s in ordered if s.artifact_id in {by_name[n].artifact_id for n in wanted}]
    return [artifact.stack_name for artifact in reversed(ordered) if deployer.destroy_stack(artifact)]
