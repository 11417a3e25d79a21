"""Image builds: a pipeline execution moves through the real image states
on timers (no polling loop), registers its AMIs while DISTRIBUTING, and
notifies the infrastructure configuration's SNS topic when it ends
(AVAILABLE, FAILED or CANCELLED).

Timing: the whole build takes ``clock.scaled(config.image_build_seconds)``
real seconds, split over the phases below. A fault set on
``imagebuilder``/``StartImagePipelineExecution`` (or ``*``) when the build
starts decides its course: ``build-fail`` (or ``fail`` on that operation)
ends it FAILED where testing would start, with a ``state.reason`` worded as
Image Builder words a failed build step; ``delay`` adds the fault's
seconds, ``hang`` leaves it BUILDING until it is cancelled. A counted fault
loses one use per build it shapes.

Due times are wall-clock, so a build restored from saved state resumes
where it stopped (overdue transitions apply at once).
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from local import clock, faults
from local.config import load_config

from . import outputs
from .exceptions import ResourceDependencyException, ResourceInUseException, ResourceNotFoundException
from .models import (
    DISTRIBUTION_CONFIGURATION,
    IMAGE,
    IMAGE_PIPELINE,
    IMAGE_RECIPE,
    INFRASTRUCTURE_CONFIGURATION,
    ImageBuilderBackend,
    backend,
    lock,
    make_arn,
    now_iso,
)

# Fraction of the build time at which each state begins.
PHASES = (("BUILDING", 0.05), ("TESTING", 0.6), ("DISTRIBUTING", 0.75), ("INTEGRATING", 0.9), ("AVAILABLE", 1.0))
TERMINAL = ("AVAILABLE", "FAILED", "CANCELLED")
OPERATION = "StartImagePipelineExecution"


@dataclass
class ImageBuild:
    """One image build version; ``body`` is the image as ``GetImage`` returns it."""

    arn: str
    account_id: str
    region: str
    body: dict[str, Any]
    build_date: str
    schedule: list[tuple[float, str]] = field(default_factory=list)
    failure_reason: str | None = None

    @property
    def status(self) -> str:
        return self.body["state"]["status"]


_timers: dict[str, threading.Timer] = {}


def failure_reason(fault: faults.Fault, recipe: dict[str, Any]) -> str:
    """Why a faulted build failed, worded as Image Builder reports a failed
    build step: the workflow execution, the step, then the cause (the
    fault's message, else the recipe's first component exiting 1)."""
    if fault.message and fault.message != faults.DEFAULT_MESSAGE:
        cause = fault.message
    else:
        components = recipe.get("components") or [{}]
        component = components[0].get("componentArn", "the build component")
        cause = f"Component '{component}' failed in phase 'build': exit status 1"
    return (f"Workflow Execution ID: 'wf-{uuid.uuid4()}' failed with reason: Step 'BuildImage' failed: "
            f"{cause}")


def plan(started: float, fault: faults.Fault | None, tests_enabled: bool,
         recipe: dict[str, Any] | None = None) -> tuple[list[tuple[float, str]], str | None]:
    """The (due time, state) steps of a build and, for a failing one, why."""
    extra = fault.seconds if fault is not None and fault.kind == "delay" else 0.0
    total = clock.scaled(load_config().image_build_seconds + extra)
    steps = [(started + total * share, state) for state, share in PHASES]
    if not tests_enabled:
        steps = [step for step in steps if step[1] != "TESTING"]
    if fault is not None and fault.kind == "hang":
        return steps[:1], None
    if fault is not None and fault.kind in ("fail", "build-fail"):
        fail_at = started + total * 0.6
        return [steps[0], (fail_at, "FAILED")], failure_reason(fault, recipe or {})
    return steps, None


def start(ib: ImageBuilderBackend, pipeline_arn: str, tags: dict[str, str] | None) -> ImageBuild:
    pipeline = ib.get(IMAGE_PIPELINE, pipeline_arn).body
    recipe = ib.get(IMAGE_RECIPE, pipeline["imageRecipeArn"]).body
    infrastructure = ib.get(INFRASTRUCTURE_CONFIGURATION, pipeline["infrastructureConfigurationArn"]).body
    distribution = None
    if pipeline.get("distributionConfigurationArn"):
        distribution = ib.get(DISTRIBUTION_CONFIGURATION, pipeline["distributionConfigurationArn"]).body
    version_arn = make_arn(IMAGE, ib.region, ib.account_id, recipe["name"], recipe["version"])
    build_number = ib.build_numbers.get(version_arn, 0) + 1
    ib.build_numbers[version_arn] = build_number
    arn = f"{version_arn}/{build_number}"
    started = time.time()
    body: dict[str, Any] = {
        "arn": arn, "type": "AMI", "name": recipe["name"], "version": f"{recipe['version']}/{build_number}",
        "platform": recipe.get("platform", "Linux"), "osVersion": outputs.os_version(recipe.get("parentImage", "")),
        "enhancedImageMetadataEnabled": pipeline.get("enhancedImageMetadataEnabled", True),
        "state": {"status": "PENDING"}, "imageRecipe": copy.deepcopy(recipe),
        "sourcePipelineName": pipeline["name"], "sourcePipelineArn": pipeline["arn"],
        "infrastructureConfiguration": copy.deepcopy(infrastructure),
        "imageTestsConfiguration": copy.deepcopy(pipeline.get("imageTestsConfiguration") or {}),
        "dateCreated": now_iso(), "outputResources": {"amis": []},
        "tags": {**(pipeline.get("imageTags") or {}), **(tags or {})},
        "buildType": "USER_INITIATED", "owner": ib.account_id,
    }
    if distribution is not None:
        body["distributionConfiguration"] = copy.deepcopy(distribution)
    tests_enabled = bool((pipeline.get("imageTestsConfiguration") or {}).get("imageTestsEnabled", True))
    schedule, reason = plan(started, faults.use("imagebuilder", OPERATION), tests_enabled, recipe)
    build = ImageBuild(arn, ib.account_id, ib.region, body,
                       outputs.build_date(datetime.fromtimestamp(started, timezone.utc)), schedule, reason)
    ib.images[arn] = build
    _record_run(ib, build)
    _arm(build)
    return build


def get(ib: ImageBuilderBackend, arn: str) -> ImageBuild:
    build = ib.images.get(arn)
    if build is None:
        builds = [b for a, b in ib.images.items() if a.rsplit("/", 1)[0] == arn]
        if builds:
            return max(builds, key=lambda b: int(b.arn.rsplit("/", 1)[1]))
        raise ResourceNotFoundException(arn)
    return build


def cancel(ib: ImageBuilderBackend, arn: str) -> ImageBuild:
    build = get(ib, arn)
    if build.status in TERMINAL:
        raise ResourceInUseException(
            f"The image '{arn}' is {build.status} and can no longer be cancelled; only a build in progress can."
        )
    _disarm(build)
    outputs.finish_amis(build.body["outputResources"]["amis"], "CANCELLED")
    build.body["outputResources"]["amis"] = []
    build.body["state"] = {"status": "CANCELLED", "reason": "Image creation was cancelled."}
    _record_run(ib, build)
    _notify_later(build)
    return build


def delete(ib: ImageBuilderBackend, arn: str) -> ImageBuild:
    """Removes the Image Builder image resource; its AMIs stay, as on AWS."""
    build = get(ib, arn)
    if build.status not in TERMINAL:
        raise ResourceDependencyException(
            f"The image '{arn}' is still {build.status}; cancel it (CancelImageCreation) before deleting it."
        )
    del ib.images[build.arn]
    return build


def built_amis(ib: ImageBuilderBackend) -> dict[str, str]:
    """Our own image ARNs (build and version) -> the AMI they produced here."""
    found: dict[str, str] = {}
    for build in sorted(ib.images.values(), key=lambda b: int(b.arn.rsplit("/", 1)[1])):
        for ami in build.body["outputResources"]["amis"]:
            if ami["region"] == ib.region and ami["accountId"] == ib.account_id:
                found[build.arn] = found[build.arn.rsplit("/", 1)[0]] = ami["image"]
    return found


def _record_run(ib: ImageBuilderBackend, build: ImageBuild) -> None:
    pipeline = ib.resources.get(build.body["sourcePipelineArn"])
    if pipeline is not None:
        pipeline.body["lastRunStatus"] = build.status
        pipeline.body["dateLastRun"] = now_iso()


def _arm(build: ImageBuild) -> None:
    if not build.schedule:
        return
    delay = max(0.0, build.schedule[0][0] - time.time())
    timer = threading.Timer(delay, _on_timer, args=(build.account_id, build.region, build.arn))
    timer.daemon = True
    _timers[build.arn] = timer
    timer.start()


def _disarm(build: ImageBuild) -> None:
    build.schedule = []
    timer = _timers.pop(build.arn, None)
    if timer is not None:
        timer.cancel()


def _notify_later(build: ImageBuild) -> None:
    """Publish the build's end notification from another thread: the caller
    holds the service lock, and Image Builder notifies asynchronously."""
    topic = (build.body.get("infrastructureConfiguration") or {}).get("snsTopicArn")
    if not topic:
        return
    message = outputs.notification(build.body, build.account_id)
    threading.Thread(target=outputs.publish, args=(topic, message), name="imagebuilder-notification",
                     daemon=True).start()


def _on_timer(account_id: str, region: str, arn: str) -> None:
    with lock:
        ib = backend(account_id, region)
        build = ib.images.get(arn)
        _timers.pop(arn, None)
        if build is None:
            return
        message = _apply_due(ib, build)
        topic = (build.body.get("infrastructureConfiguration") or {}).get("snsTopicArn")
        _arm(build)
    if message is not None:
        outputs.publish(topic, message)


def _apply_due(ib: ImageBuilderBackend, build: ImageBuild) -> str | None:
    """Apply every overdue state; the notification to send if the build ended."""
    now = time.time()
    while build.schedule and build.schedule[0][0] <= now:
        _, state = build.schedule.pop(0)
        try:
            _enter(ib, build, state)
        except outputs.BuildFailure as failure:
            build.schedule = []
            build.body["state"] = {"status": "FAILED", "reason": str(failure)}
        _record_run(ib, build)
        if build.status in ("AVAILABLE", "FAILED"):
            return outputs.notification(build.body, build.account_id)
    return None


def _enter(ib: ImageBuilderBackend, build: ImageBuild, state: str) -> None:
    if state == "FAILED":
        build.body["state"] = {"status": "FAILED", "reason": build.failure_reason or "Image build failed."}
        return
    if state == "DISTRIBUTING":
        build.body["outputResources"]["amis"] = outputs.register_amis(
            account_id=build.account_id, region=build.region, image_arn=build.arn,
            recipe=build.body["imageRecipe"], distribution=build.body.get("distributionConfiguration"),
            date=build.build_date, build_version=int(build.arn.rsplit("/", 1)[1]), built_amis=built_amis(ib),
        )
    if state == "AVAILABLE":
        outputs.finish_amis(build.body["outputResources"]["amis"], "AVAILABLE")
    build.body["state"] = {"status": state}


def resume_all(backends: list[ImageBuilderBackend]) -> None:
    """Re-arm the timers of builds in progress after a restore."""
    with lock:
        for ib in backends:
            for build in ib.images.values():
                if build.status not in TERMINAL and build.schedule:
                    _arm(build)


def stop_all() -> None:
    with lock:
        for timer in _timers.values():
            timer.cancel()
        _timers.clear()
