"""State and behaviour of the simulated Inspector2: account status, coverage
of EC2 instances, findings seeded per AMI, reports and SBOM exports (the
last two in :mod:`.reports`).

How a scan plays out: once EC2 scanning is enabled for the account, every
instance in moto's EC2 backend that is not terminated is covered. It shows
``ACTIVE``/``PENDING_INITIAL_SCAN`` until ``clock.scaled(SCAN_SECONDS)``
after its launch, then ``ACTIVE``/``SUCCESSFUL``; from then on the findings
seeded for the AMI it was launched from are reported against it (a
terminated instance leaves coverage and its findings turn ``CLOSED``). A
``hang`` fault on ``inspector2``/``ListCoverage`` keeps every scan pending.

Findings are derived when asked for, from moto's instances and the seeds,
so nothing needs a timer and a restored state answers the same.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.model import StructureShape
from moto.ec2.models import ec2_backends
from moto.inspector2.models import AccountStatus, inspector2_backends

from local import clock, faults

from .exceptions import ValidationException
from .wire import service_model

lock = threading.RLock()
SCAN_SECONDS = 120.0
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNTRIAGED")
FINDING_TYPES = ("NETWORK_REACHABILITY", "PACKAGE_VULNERABILITY", "CODE_VULNERABILITY")
FINDING_STATUSES = ("ACTIVE", "SUPPRESSED", "CLOSED")
# Finding members the scan fills in; a seed may set any other member.
GENERATED = ("findingArn", "awsAccountId", "resources", "firstObservedAt", "lastObservedAt", "updatedAt")
RESOURCE_TYPES = ("EC2", "ECR", "LAMBDA", "LAMBDA_CODE", "CODE_REPOSITORY")
PERMISSIONS = {
    "EC2": ("ENABLE_SCANNING", "DISABLE_SCANNING"),
    "ECR": ("ENABLE_SCANNING", "DISABLE_SCANNING", "ENABLE_REPOSITORY", "DISABLE_REPOSITORY"),
    "LAMBDA": ("ENABLE_SCANNING", "DISABLE_SCANNING"),
}


@dataclass
class Inspector2Backend:
    account_id: str
    region: str
    seeds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # AMI id -> finding templates
    reports: dict[str, Any] = field(default_factory=dict)  # report id -> reports.Report


_backends: dict[tuple[str, str], Inspector2Backend] = {}


def backend(account_id: str, region: str) -> Inspector2Backend:
    with lock:
        return _backends.setdefault((account_id, region), Inspector2Backend(account_id, region))


# ---- account status (kept in moto's inspector2 backend, shared with it) ----
def _status(account_id: str, region: str, target: str) -> AccountStatus:
    statuses = inspector2_backends[account_id][region].account_status
    if target not in statuses:
        statuses[target] = AccountStatus(target)
    return statuses[target]


def set_scanning(account_id: str, region: str, account_ids: list[str] | None,
                 resource_types: list[str] | None, enable: bool) -> list[dict[str, Any]]:
    types = resource_types or list(RESOURCE_TYPES)
    unknown = [t for t in types if t not in RESOURCE_TYPES]
    if unknown:
        raise ValidationException(
            f"resourceTypes {unknown} are not valid: use {', '.join(RESOURCE_TYPES)}.", field="resourceTypes"
        )
    results = []
    for target in account_ids or [account_id]:
        status = _status(account_id, region, target)
        status.toggle(types, enable=enable)
        results.append({"accountId": target, "status": status._status(), "resourceStatus": _resource_status(status)})
    return results


def _resource_status(status: AccountStatus) -> dict[str, str]:
    return {"ec2": status.ec2, "ecr": status.ecr, "lambda": status._lambda, "lambdaCode": status.lambda_code}


def account_states(account_id: str, region: str, account_ids: list[str] | None) -> list[dict[str, Any]]:
    states = []
    for target in account_ids or [account_id]:
        status = _status(account_id, region, target)
        states.append({
            "accountId": target, "state": {"status": status._status()},
            "resourceState": {k: {"status": v} for k, v in _resource_status(status).items()},
        })
    return states


def ec2_scanning_enabled(account_id: str, region: str) -> bool:
    status = inspector2_backends[account_id][region].account_status.get(account_id)
    return status is not None and status.ec2 == "ENABLED"


def permissions(service: str | None) -> list[dict[str, str]]:
    return [{"service": s, "operation": op} for s, ops in PERMISSIONS.items()
            if service in (None, s) for op in ops]


# ---- seeding --------------------------------------------------------
def _finding_members() -> tuple[str, ...]:
    shape = service_model().shape_for("Finding")
    assert isinstance(shape, StructureShape)
    return tuple(name for name in shape.members if name not in GENERATED)


def validate_seed(finding: Any, index: int) -> dict[str, Any]:
    """A seed is a finding as ListFindings returns it, without the fields the
    scan fills in (``findingArn``, ``awsAccountId``, ``resources`` and the
    three timestamps). ``title`` and ``severity`` are required; the rest
    default to a package vulnerability that is ACTIVE."""
    where = f"findings[{index}]"
    if not isinstance(finding, dict):
        raise ValueError(f"{where} must be an object (a finding as ListFindings returns it)")
    allowed = _finding_members()
    unknown = sorted(set(finding) - set(allowed))
    if unknown:
        raise ValueError(f"{where} has unknown field(s) {unknown}; allowed: {', '.join(allowed)}")
    if not isinstance(finding.get("title"), str) or not finding["title"]:
        raise ValueError(f"{where}.title is required (a non-empty string, e.g. 'CVE-2023-0286 - openssl')")
    checks = (("severity", SEVERITIES, None), ("type", FINDING_TYPES, "PACKAGE_VULNERABILITY"),
              ("status", FINDING_STATUSES, "ACTIVE"))
    seed = dict(finding)
    for key, allowed_values, default in checks:
        value = seed.get(key, default)
        if value not in allowed_values:
            raise ValueError(f"{where}.{key} is {value!r}; expected one of {', '.join(allowed_values)}")
        seed[key] = value
    if "inspectorScore" in seed and not isinstance(seed["inspectorScore"], (int, float)):
        raise ValueError(f"{where}.inspectorScore must be a number, got {seed['inspectorScore']!r}")
    seed.setdefault("description", seed["title"])
    seed.setdefault("remediation", {"recommendation": {"text": "None Provided"}})
    return seed


def seed_findings(account_id: str, region: str, ami_id: str, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace the findings every scan of an instance launched from
    ``ami_id`` reports (an empty list clears them); see :func:`validate_seed`."""
    if not isinstance(ami_id, str) or not ami_id.startswith("ami-"):
        raise ValueError(f"amiId must be an AMI id like 'ami-0123456789abcdef0', got {ami_id!r}")
    if not isinstance(findings, list):
        raise ValueError("findings must be a list of finding objects")
    seeds = [validate_seed(finding, i) for i, finding in enumerate(findings)]
    with lock:
        backend(account_id, region).seeds[ami_id] = seeds
    return seeds


def seeded(account_id: str, region: str, ami_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
    with lock:
        seeds = backend(account_id, region).seeds
        return {k: list(v) for k, v in seeds.items() if ami_id in (None, k)}


# ---- coverage ---------------------------------------------------------
def _launched(instance: Any) -> datetime:
    launched = instance.launch_time
    if isinstance(launched, str):
        launched = datetime.fromisoformat(launched.replace("Z", "+00:00"))
    return launched if launched.tzinfo else launched.replace(tzinfo=timezone.utc)


def scan_completed_at(instance: Any) -> datetime | None:
    """When the instance's first scan finished, or None while it is pending."""
    fault = faults.active("inspector2", "ListCoverage")
    if fault is not None and fault.kind == "hang":
        return None
    done = _launched(instance) + timedelta(seconds=clock.scaled(SCAN_SECONDS))
    return done if done <= datetime.now(timezone.utc) else None


def _instances(account_id: str, region: str) -> list[Any]:
    return sorted(ec2_backends[account_id][region].all_instances(), key=lambda i: (_launched(i), i.id))


def _tags(account_id: str, region: str, resource_id: str) -> dict[str, str]:
    return dict(ec2_backends[account_id][region].tags.get(resource_id, {}))


def _platform(instance: Any) -> str:
    return "WINDOWS" if (getattr(instance, "platform", None) or "").lower() == "windows" else "LINUX"


def coverage(account_id: str, region: str) -> list[dict[str, Any]]:
    if not ec2_scanning_enabled(account_id, region):
        return []
    covered = []
    for instance in _instances(account_id, region):
        if instance.state == "terminated":
            continue
        done = scan_completed_at(instance)
        item = {
            "resourceType": "AWS_EC2_INSTANCE", "resourceId": instance.id, "accountId": account_id,
            "scanType": "PACKAGE", "scanMode": "EC2_SSM_AGENT_BASED",
            "scanStatus": {"statusCode": "ACTIVE", "reason": "SUCCESSFUL" if done else "PENDING_INITIAL_SCAN"},
            "resourceMetadata": {"ec2": {"tags": _tags(account_id, region, instance.id),
                                         "amiId": instance.image_id, "platform": _platform(instance)}},
        }
        if done:
            item["lastScannedAt"] = done
        covered.append(item)
    return covered


# ---- findings ---------------------------------------------------------
def findings(account_id: str, region: str) -> list[dict[str, Any]]:
    """Every finding of every scanned instance, newest scan last."""
    if not ec2_scanning_enabled(account_id, region):
        return []
    seeds = backend(account_id, region).seeds
    found = []
    for instance in _instances(account_id, region):
        done = scan_completed_at(instance)
        if done is None:
            continue
        for index, seed in enumerate(seeds.get(instance.image_id, [])):
            found.append(_finding(account_id, region, instance, done, index, seed))
    return found


def _finding(account_id: str, region: str, instance: Any, observed: datetime, index: int,
             seed: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(f"{instance.id}/{index}/{seed['title']}".encode()).hexdigest()[:32]
    status = seed["status"]
    if instance.state == "terminated" and status == "ACTIVE":
        status = "CLOSED"
    details = {
        "type": instance.instance_type, "imageId": instance.image_id, "launchedAt": _launched(instance),
        "platform": _platform(instance), "subnetId": instance.subnet_id,
        "vpcId": instance.vpc_id,
        "ipV4Addresses": [ip for ip in (instance.private_ip, instance.public_ip) if ip],
        "keyName": instance.key_name,
    }
    return {
        **seed,
        "findingArn": f"arn:aws:inspector2:{region}:{account_id}:finding/{digest}",
        "awsAccountId": account_id, "status": status,
        "firstObservedAt": observed, "lastObservedAt": observed, "updatedAt": observed,
        "resources": [{
            "type": "AWS_EC2_INSTANCE", "id": instance.id, "partition": "aws", "region": region,
            "tags": _tags(account_id, region, instance.id),
            "details": {"awsEc2Instance": {k: v for k, v in details.items() if v is not None}},
        }],
    }


# ---- persistence --------------------------------------------------------
def get_state() -> object:
    with lock:
        return {"backends": dict(_backends)}


def set_state(state: object) -> None:
    from . import reports, scan_events

    if not isinstance(state, dict) or not isinstance(state.get("backends"), dict):
        raise ValueError("inspector2 state must be a dict with a 'backends' mapping, as get_state() returns")
    with lock:
        reports.stop_all()
        scan_events.stop_all()
        _backends.clear()
        _backends.update(state["backends"])
        reports.resume_all(list(_backends.values()))
        scan_events.resume_all(list(_backends.values()))


def reset() -> None:
    from . import reports, scan_events

    with lock:
        reports.stop_all()
        scan_events.stop_all()
        _backends.clear()
