"""The timeline page as data: a header and one panel per event of a phase.

A template renders this later; everything here is already public (redacted)
and already phrased, so the template only lays it out and escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Mapping

from .history import (Record, ami_details, current_patch, event_entry, event_in_progress, events_of,
                      historical_patches, lifecycle_semver, phase_ami_entry)
from .redaction import redact
from .sequences import first_event, sequence_for
from .versioning import compare_versions
from .vocabulary import ERROR_STATUSES, EventName, LifecycleType, Status, TimelineStatus, definition

REFRESH_SECONDS = 20

DESCRIPTIONS: Mapping[EventName, str] = {
    EventName.BUILD_AMI: "EC2 Image Builder builds the AMI from the pipeline's recipe and hardens the OS.",
    EventName.SMOKE_TESTS_AMI_CREATE: "An instance of the AMI is launched and the smoke tests run on it.",
    EventName.VULNERABILITY_SCANS_AMI_CREATE: "Amazon Inspector scans an instance of the AMI for vulnerabilities.",
    EventName.QA_CERTIFICATION_REQUEST: "The AMI is exported as a VMDK image and the QA team is asked to certify it.",
    EventName.QA_CERTIFICATION_RESPONSE: "The QA team's verdict: CERTIFIED or FAILED.",
    EventName.MARK_FOR_PRODUCTION_CREATE: "The AMI is approved for production and backed up to S3.",
    EventName.PATCH_AMI: "EC2 Image Builder applies the patch component to the lifecycle's AMI.",
    EventName.SMOKE_TESTS_AMI_PATCH: "An instance of the patched AMI is launched and the smoke tests run on it.",
    EventName.VULNERABILITY_SCANS_AMI_PATCH: "Amazon Inspector scans an instance of the patched AMI.",
    EventName.MARK_FOR_PRODUCTION_PATCH: "The patched AMI is approved for production and backed up to S3.",
}

# Properties not shown on the page: a presigned link to the exported disk is a bearer credential meant for the
# QA team only (results no longer carry it; records written by earlier versions may). The export's location and
# the link's expiry are shown.
_HIDDEN_PROPERTIES: Mapping[EventName, frozenset[str]] = {
    EventName.QA_CERTIFICATION_REQUEST: frozenset({"export_presign_s3_url"}),
}


class SemverStanding(StrEnum):
    """Where the lifecycle's AMI version stands against the newest of its stack tag."""

    BEHIND = "behind"
    AHEAD = "ahead"
    EQUAL = "equal"


_STANDING_TEXT = {
    SemverStanding.BEHIND: "behind StackTag version",
    SemverStanding.AHEAD: "ahead of StackTag version",
    SemverStanding.EQUAL: "equal to StackTag version",
}


@dataclass(frozen=True)
class TimelinePanel:
    event: EventName
    title: str
    description: str
    status: str
    status_date: str | None
    details: Mapping[str, Any] = field(default_factory=dict)
    error_message: str | None = None


@dataclass(frozen=True)
class TimelineHeader:
    lifecycle_id: str
    stack_tag: str
    product_name: str | None
    product_ver: str | None
    commit_ref: str | None
    last_completed_event: str
    event_in_progress: str
    lifecycle_semver: str | None
    semver_standing: SemverStanding | None
    lifecycle_semver_text: str
    stack_tag_semver: str


@dataclass(frozen=True)
class AncestryLink:
    """One AMI of the lifecycle's line, oldest first: the built AMI, then each patched one."""

    produced_by: str
    ami_id: str
    ami_semver: str | None
    status_date: str | None
    change_description: str | None = None
    events: tuple[tuple[str, str], ...] = ()
    current: bool = False


@dataclass(frozen=True)
class TimelineView:
    lifecycle_type: LifecycleType
    page_title: str
    header: TimelineHeader
    panels: tuple[TimelinePanel, ...]
    refresh_seconds: int = REFRESH_SECONDS
    ancestry: tuple[AncestryLink, ...] = ()


def ancestry_links(record: Record) -> tuple[AncestryLink, ...]:
    """The built AMI and every completed patch (earlier ones, then the current), with each patch's events."""
    links: list[AncestryLink] = []
    built = phase_ami_entry(record, LifecycleType.AMI_CREATION)
    if built and ami_details(built):
        ami = ami_details(built)[0]
        links.append(AncestryLink(produced_by=str(EventName.BUILD_AMI), ami_id=str(ami.get("image")),
                                  ami_semver=ami.get("ami_semver"), status_date=built.get("status_date")))
    cycles = historical_patches(record) + ([current_patch(record)] if current_patch(record) else [])
    for cycle in cycles:
        events = cycle.get("events") or []
        patch = next((e for e in events if e.get("name") == EventName.PATCH_AMI
                      and e.get("status") == Status.COMPLETED and ami_details(e)), None)
        if patch is None:
            continue
        ami = ami_details(patch)[0]
        links.append(AncestryLink(
            produced_by=str(EventName.PATCH_AMI), ami_id=str(ami.get("image")), ami_semver=ami.get("ami_semver"),
            status_date=patch.get("status_date"),
            change_description=(patch.get("properties") or {}).get("patch_change_description"),
            events=tuple((str(e.get("name")), str(e.get("status"))) for e in events)))
    if links:
        links[-1] = replace(links[-1], current=True)
    return tuple(links)


def _phase_label(lifecycle_type: LifecycleType) -> str:
    return "AMI Creation" if lifecycle_type is LifecycleType.AMI_CREATION else "AMI Patch"


def _details(event: EventName, properties: Mapping[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in redact(dict(properties)).items() if k not in _HIDDEN_PROPERTIES.get(event, ())}
    if "ami_details" in shown:
        shown["ami_details"] = [{k: v for k, v in ami.items() if k != "description"} if isinstance(ami, dict)
                                else ami for ami in shown["ami_details"]]
    return shown


def _panel(record: Record, event: EventName, lifecycle_type: LifecycleType) -> TimelinePanel:
    row = definition(event)
    current = event_in_progress(record)
    if current and current.get("name") == event:
        errored = current.get("status") in ERROR_STATUSES
        return TimelinePanel(
            event=event, title=row.title, description=DESCRIPTIONS[event],
            status=str(TimelineStatus.EVENT_IN_PROGRESS_WITH_ERROR if errored else TimelineStatus.EVENT_IN_PROGRESS),
            status_date=current.get("status_date") or current.get("execution_startdate"),
            details=_details(event, current.get("properties") or {}),
            error_message=current.get("error_message") if errored else None,
        )
    new_patch_running = (lifecycle_type is LifecycleType.AMI_PATCH and current is not None
                         and current.get("name") == EventName.PATCH_AMI)
    entry = None if new_patch_running else event_entry(record, event)
    if entry is None:
        return TimelinePanel(event=event, title=row.title, description=DESCRIPTIONS[event],
                             status=str(TimelineStatus.NOT_STARTED), status_date=None)
    return TimelinePanel(
        event=event, title=row.title, description=DESCRIPTIONS[event], status=str(entry.get("status")),
        status_date=entry.get("status_date"), details=_details(event, entry.get("properties") or {}),
    )


def _last_completed(record: Record, lifecycle_type: LifecycleType) -> str:
    completed = [e for e in events_of(record, lifecycle_type) if e.get("status") == Status.COMPLETED]
    if not completed:
        return f"No lifecycle events completed for current {_phase_label(lifecycle_type)} execution."
    latest = max(completed, key=lambda e: str(e.get("status_date", "")))
    return f"{str(latest['name']).replace('_', ' ')} ({latest['status']}, {latest.get('status_date')})"


def _in_progress(record: Record, lifecycle_type: LifecycleType) -> str:
    current = event_in_progress(record)
    if not current or current.get("name") not in sequence_for(lifecycle_type):
        return "None"
    state = "ERROR" if current.get("status") in ERROR_STATUSES else "IN PROGRESS"
    return f"{current['name']} ({state} - check event for more details)"


def _commit_ref(record: Record, lifecycle_type: LifecycleType) -> str | None:
    if lifecycle_type is LifecycleType.AMI_PATCH:
        return (record.get("inputs_ami_patch") or {}).get("commit_ref") or record.get("commit_ref")
    return record.get("commit_ref")


def build_timeline(record: Record, lifecycle_type: LifecycleType, *, stack_tag_semver: str) -> TimelineView:
    """The timeline of one phase of a lifecycle.

    ``stack_tag_semver`` is the newest AMI version of the lifecycle's stack
    tag (the default seed when it has none yet); the header says whether
    this lifecycle's AMI is behind, ahead of, or equal to it.
    """
    lifecycle_type = LifecycleType(lifecycle_type)
    version = lifecycle_semver(record) if phase_ami_entry(record, lifecycle_type) else None
    standing: SemverStanding | None = None
    if version is None:
        version_text = f"Awaiting {first_event(lifecycle_type)} event completion"
    else:
        order = compare_versions(version, stack_tag_semver)
        standing = SemverStanding.BEHIND if order < 0 else SemverStanding.AHEAD if order > 0 else SemverStanding.EQUAL
        version_text = f"{version} ({_STANDING_TEXT[standing]})"
    header = TimelineHeader(
        lifecycle_id=str(record.get("lifecycle_id")), stack_tag=str(record.get("stack_tag")),
        product_name=record.get("product_name"), product_ver=record.get("product_ver"),
        commit_ref=_commit_ref(record, lifecycle_type),
        last_completed_event=_last_completed(record, lifecycle_type),
        event_in_progress=_in_progress(record, lifecycle_type),
        lifecycle_semver=version, semver_standing=standing, lifecycle_semver_text=version_text,
        stack_tag_semver=stack_tag_semver,
    )
    return TimelineView(
        lifecycle_type=lifecycle_type,
        page_title=f"{_phase_label(lifecycle_type)} Timeline - {record.get('lifecycle_id')}",
        header=header,
        panels=tuple(_panel(record, event, lifecycle_type) for event in sequence_for(lifecycle_type)),
        ancestry=ancestry_links(record) if lifecycle_type is LifecycleType.AMI_PATCH else (),
    )
