"""What a finished build leaves behind in the rest of the local cloud: real
AMIs in moto's EC2 backend and the SNS notification Image Builder publishes
to the infrastructure configuration's topic.

Both go through moto's backends in-process, so an SNS subscription to an SQS
queue or a Lambda function fires exactly as it does on AWS.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami
from moto.ec2.utils import random_ami_id
from moto.sns.models import sns_backends

from . import wire

log = logging.getLogger(__name__)

AMAZON_OWNER = "137112412989"
# Image Builder's AWS-managed parent images -> the name prefix of the matching
# Amazon image among moto's default AMIs, and the OS version the build reports.
PARENT_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("amazon-linux-2023", "al2023-ami-2023", "Amazon Linux 2023"),
    ("amazon-linux-2-kernel-5", "amzn2-ami-kernel-5.10-hvm", "Amazon Linux 2"),
    ("amazon-linux-2", "amzn2-ami-hvm", "Amazon Linux 2"),
    ("ubuntu-server", "ubuntu/images/hvm-ssd/ubuntu-", "Ubuntu"),
    ("windows-server", "Windows_Server-", "Microsoft Windows Server"),
)
BUILD_VARIABLE = re.compile(r"\{\{\s*imagebuilder:(buildDate|buildVersion)\s*\}\}")


class BuildFailure(Exception):
    """The build cannot produce its AMI; the image ends FAILED with this reason."""


def build_date(moment: datetime) -> str:
    """``{{ imagebuilder:buildDate }}`` as the service expands it: AMI names
    cannot hold ':' so the time separators are dashes."""
    return moment.strftime("%Y-%m-%dT%H-%M-%S.%f")[:-3] + "Z"


def expand_ami_name(template: str, date: str, build_version: int) -> str:
    values = {"buildDate": date, "buildVersion": str(build_version)}
    return BUILD_VARIABLE.sub(lambda m: values[m.group(1)], template)


def os_version(parent_image: str) -> str:
    family = _family(parent_image)
    return family[2] if family else "Amazon Linux 2"


def _family(parent_image: str) -> tuple[str, str, str] | None:
    lowered = parent_image.lower()
    for family in PARENT_FAMILIES:
        if f"image/{family[0]}" in lowered:
            return family
    return None


def source_ami(account_id: str, region: str, parent_image: str, built_amis: dict[str, str]) -> Ami:
    """The AMI the build starts from: an AMI id as given, one of our own
    builds named by its image ARN, or for an AWS-managed parent image the
    newest matching Amazon image among moto's default AMIs."""
    ec2 = ec2_backends[account_id][region]
    if parent_image.startswith("ami-"):
        if parent_image not in ec2.amis:
            raise BuildFailure(f"The parent image {parent_image} does not exist in {region}.")
        return ec2.amis[parent_image]
    if f":{account_id}:image/" in parent_image:
        ami_id = built_amis.get(parent_image)
        if ami_id is None or ami_id not in ec2.amis:
            raise BuildFailure(f"The parent image {parent_image} has no AMI in {region}.")
        return ec2.amis[ami_id]
    family = _family(parent_image)
    arch = "arm64" if re.search(r"arm|aarch64", parent_image.lower()) else "x86_64"
    amazon = [a for a in ec2.amis.values() if a.owner_id == AMAZON_OWNER and a.architecture == arch]
    if family:
        matching = [a for a in ec2.amis.values() if (a.name or "").startswith(family[1]) and a.architecture == arch]
        amazon = matching or amazon
    candidates = amazon or list(ec2.amis.values())
    if not candidates:
        raise BuildFailure(f"No base AMI is available in {region} for parent image {parent_image}.")
    return max(candidates, key=lambda a: (str(a.creation_date), a.id))


def register_amis(*, account_id: str, region: str, image_arn: str, recipe: dict[str, Any],
                  distribution: dict[str, Any] | None, date: str, build_version: int,
                  built_amis: dict[str, str]) -> list[dict[str, Any]]:
    """Create the distributed AMIs (state ``pending``), tagged and shared as
    the distribution configuration says; returns ``outputResources.amis``."""
    source = source_ami(account_id, region, recipe.get("parentImage", ""), built_amis)
    distributions = (distribution or {}).get("distributions") or [{"region": region}]
    outputs = []
    for target in distributions:
        settings = target.get("amiDistributionConfiguration") or {}
        name = expand_ami_name(settings.get("name") or f"{recipe['name']} {{{{imagebuilder:buildDate}}}}",
                               date, build_version)
        description = settings.get("description") or recipe.get("description")
        tags = {**(recipe.get("amiTags") or {}), **(settings.get("amiTags") or {}),
                "CreatedBy": "EC2 Image Builder", "Ec2ImageBuilderArn": image_arn}
        accounts = [account_id] + [a for a in settings.get("targetAccountIds") or [] if a != account_id]
        for target_account in accounts:
            ami = _copy_ami(target_account, target["region"], source, name, description, tags)
            _share(target_account, target["region"], ami, settings.get("launchPermission") or {})
            outputs.append({
                "region": target["region"], "image": ami.id, "name": name, "description": ami.description,
                "state": {"status": "PENDING"}, "accountId": target_account,
            })
    return outputs


def _copy_ami(account_id: str, region: str, source: Ami, name: str, description: str | None,
              tags: dict[str, str]) -> Ami:
    ec2 = ec2_backends[account_id][region]
    ami = Ami(ec2, random_ami_id(), source_ami=source, name=name, description=description,
              state="pending", root_device_name=source.root_device_name, root_device_type="ebs",
              region_name=f"{region}a", boot_mode=source.boot_mode)
    ec2.amis[ami.id] = ami
    ec2.create_tags([ami.id], tags)
    return ami


def _share(account_id: str, region: str, ami: Ami, permission: dict[str, Any]) -> None:
    grants = [{"UserId": user} for user in permission.get("userIds") or []]
    grants += [{"Group": group} for group in permission.get("userGroups") or []]
    if grants:
        ec2_backends[account_id][region].modify_image_attribute(ami.id, grants, [])


def finish_amis(amis: list[dict[str, Any]], status: str) -> None:
    """AVAILABLE makes the AMIs available; CANCELLED removes them, as an
    aborted distribution leaves nothing behind."""
    for output in amis:
        ec2 = ec2_backends[output["accountId"]][output["region"]]
        ami = ec2.amis.get(output["image"])
        if ami is None:
            continue
        if status == "AVAILABLE":
            ami.state = "available"
        else:
            ec2.deregister_image(ami.id)
        output["state"] = {"status": status}


def notification(image: dict[str, Any], account_id: str) -> str:
    """The message Image Builder publishes: the image as ``GetImage``
    returns it plus the version fields its notifications carry."""
    document = wire.serialize("GetImage", {"image": image})["image"]
    version, _, build = image["version"].partition("/")
    document.update({
        "versionlessArn": image["arn"].rsplit("/", 2)[0],
        "semver": version,
        "buildVersion": int(build) if build.isdigit() else 1,
        "accountId": account_id,
    })
    return json.dumps(document)


def publish(topic_arn: str | None, message: str) -> None:
    """Publish without a subject, as Image Builder does (email subscribers
    see SNS's default subject). A missing topic is logged, not raised: the
    build result stands whether or not anybody listens."""
    if not topic_arn:
        return
    try:
        _, _, _, region, account_id, _ = topic_arn.split(":", 5)
        sns_backends[account_id][region].publish(message, arn=topic_arn)
    except Exception:  # noqa: BLE001 - a notification never changes the build's outcome
        log.exception("Image Builder notification to %s failed", topic_arn)
