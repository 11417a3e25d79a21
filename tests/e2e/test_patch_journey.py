"""Patching on the local cloud: build, approve, patch MINOR with smoke tests, approve, a second patch PATCH,
approve; a failing patch build, a patch during a patch, a bad component document.

Through the product's entry points only (``deploy.sh --local``, ``api-cli.py``, ``get_ami.sh``, ``python3 -m
local fault``). Each approval is followed with --wait; the production channel then holds the approved AMI.
After every patch, the local Image Builder holds no more components, recipes, configurations or pipelines
than before it: a patch deletes everything it created, on success and on failure.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.e2e.test_create_journey import User, deployed_user

pytestmark = pytest.mark.e2e

STACK_TAG = "e2e-patch"
TIME_SCALE = "0.05"
WAIT = ("--wait", "--timeout", "600", "--poll-interval", "1")
OWNER = ("--owner", "platform@example.com", "--notifications", "EMAIL::platform@example.com")
SAMPLE = "client/samples/patch-component.yml"
SMOKE = "SMOKE_TESTS_AMI_PATCH"
CHANNEL = f"/ami-lifecycle/{STACK_TAG}/billing-service/production"


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    yield from deployed_user(tmp_path_factory, STACK_TAG, time_scale=TIME_SCALE)


@pytest.fixture(autouse=True)
def no_faults_left(user):
    yield
    user.shell("python3 -m local fault clear")


def output(user: User, key: str) -> str:
    for stack in user.aws("cloudformation").describe_stacks()["Stacks"]:
        for item in stack.get("Outputs") or []:
            if item["OutputKey"] == key:
                return item["OutputValue"]
    raise AssertionError(f"no stack output {key}")


def approve(user: User, lifecycle_id: str, phase: str = "Create") -> None:
    """Approve the lifecycle's built (``Create``) or current patched (``Patch``) AMI for production, as a
    user does, and follow the backup to its end."""
    result = user.api_cli("--operation", f"AMI_APPROVAL_{phase.upper()}", "--lifecycleId", lifecycle_id,
                          f"--approvalStatusAmi{'Creation' if phase == 'Create' else 'Patch'}", "APPROVED", *WAIT,
                          check=False)
    assert result.returncode == 0, result.stderr


def channel(user: User) -> str:
    return user.aws("ssm").get_parameter(Name=CHANNEL)["Parameter"]["Value"]


def image_builder_resources(user: User) -> dict[str, int]:
    """How many of each dynamically creatable Image Builder resource exist now."""
    ib = user.aws("imagebuilder")
    return {
        "components": len(ib.list_components(owner="Self")["componentVersionList"]),
        "recipes": len(ib.list_image_recipes(owner="Self")["imageRecipeSummaryList"]),
        "infrastructure": len(ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"]),
        "distribution": len(ib.list_distribution_configurations()["distributionConfigurationSummaryList"]),
        "pipelines": len(ib.list_image_pipelines()["imagePipelineList"]),
    }


def build(user: User) -> str:
    result = user.api_cli("--operation", "AMI_CREATE", *OWNER, "--productName", "billing-service",
                          "--productVer", "1.4.2", "--commitRef", "3f9c2ab", "--events", "AMI_BUILD_ONLY", *WAIT)
    return result.stdout.strip()


def patch(user: User, lifecycle_id: str, bump: str, *events: str, component: str = SAMPLE, wait: bool = True,
          check: bool = False) -> subprocess.CompletedProcess:
    flags = [arg for event in events for arg in ("--events", event)]
    return user.api_cli("--operation", "AMI_PATCH", "--lifecycleId", lifecycle_id, *OWNER, "--events",
                        "AMI_PATCH_ONLY", *flags, "--patchComponent", component, "--patchChangeDescription",
                        f"security updates ({bump})", "--semverBumpType", bump, "--commitRef", "9e1d4c7",
                        *(WAIT if wait else ()), check=check)


def current_patch_events(status: dict) -> dict[str, dict]:
    return {e["name"]: e for e in status["outputs_ami_patch"]["patch_history"]["current"]["events"]}


def ami(status_entry: dict) -> dict:
    return status_entry["properties"]["ami_details"][0]


@pytest.fixture(scope="module")
def patched(user):
    """A built lifecycle, approved, patched MINOR with smoke tests, followed with --wait."""
    lifecycle_id = build(user)
    approve(user, lifecycle_id)
    before = image_builder_resources(user)
    result = patch(user, lifecycle_id, "MINOR", "SMOKE_TESTS")
    return {"lifecycle_id": lifecycle_id, "result": result, "status": user.status(lifecycle_id),
            "resources_before": before, "resources_after": image_builder_resources(user)}


def built_entry(status: dict) -> dict:
    (entry,) = [e for e in status["outputs_ami_creation"]["events"] if e["name"] == "BUILD_AMI"]
    return entry


def test_a_minor_patch_with_smoke_tests_completes_both(patched):
    result = patched["result"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{patched['lifecycle_id']}\n"
    assert result.stderr.splitlines()[-1] == f"PATCH_AMI ended COMPLETED; {SMOKE} ended COMPLETED"


def test_the_patched_ami_has_the_minor_version_and_its_ancestry(patched):
    status = patched["status"]
    built = ami(built_entry(status))
    major = built["ami_semver"].split(".")[0]
    events = current_patch_events(status)
    patched_ami = ami(events["PATCH_AMI"])
    assert patched_ami["ami_semver"] == f"{major}.1.0"
    assert patched_ami["image"] != built["image"]
    assert events["PATCH_AMI"]["properties"]["ami_ancestry"] == (
        f"{built['image']} (v{built['ami_semver']}) -> {patched_ami['image']} (v{major}.1.0)")
    assert events[SMOKE]["status"] == "COMPLETED"
    assert not status.get("event_in_progress")


def test_the_patched_ami_is_tagged_with_its_version_and_ancestry(user, patched):
    patched_ami = ami(current_patch_events(patched["status"])["PATCH_AMI"])
    (image,) = user.aws("ec2").describe_images(ImageIds=[patched_ami["image"]])["Images"]
    tags = {t["Key"]: t["Value"] for t in image.get("Tags", [])}
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == patched_ami["ami_semver"]
    assert tags["AMI_LC_EVENT_PATCH_AMI_STATUS"] == "COMPLETED"
    assert "->" in tags["AMI_LC_AMI_ANCESTRY"]


def test_get_ami_selects_the_patched_ami_by_type_and_by_default(user, patched):
    patched_ami = ami(current_patch_events(patched["status"])["PATCH_AMI"])["image"]
    for command in ("bash client/get_ami.sh --lifecycle_type ami-patch", "bash client/get_ami.sh"):
        assert f"Retrieved AMI ID == {patched_ami}" in user.shell(command).stdout, command


def test_the_patch_timeline_shows_the_patch_panel_and_the_ancestry(user, patched):
    lifecycle_id = patched["lifecycle_id"]
    url = user.api_cli("--operation", "AMI_TIMELINE_PATCH", "--lifecycleId", lifecycle_id,
                       "--show-key-in-url", check=True).stdout.strip()
    page = requests.get(url, timeout=30)
    assert page.status_code == 200
    patched_ami = ami(current_patch_events(patched["status"])["PATCH_AMI"])
    assert "AMI Patch" in page.text
    assert patched_ami["image"] in page.text
    assert patched_ami["ami_semver"] in page.text


def test_continuing_the_patch_runs_the_vulnerability_scans_on_the_patched_ami(user, patched):
    lifecycle_id = patched["lifecycle_id"]

    result = user.api_cli("--operation", "AMI_PATCH_UPDATE", "--lifecycleId", lifecycle_id, *OWNER,
                          "--events", "SMOKE_TESTS", "--events", "VULNERABILITY_SCANS", *WAIT, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "VULNERABILITY_SCANS_AMI_PATCH ended COMPLETED"
    events = current_patch_events(user.status(lifecycle_id))
    assert events["VULNERABILITY_SCANS_AMI_PATCH"]["status"] == "COMPLETED"
    assert events["PATCH_AMI"] == current_patch_events(patched["status"])["PATCH_AMI"]


def test_a_successful_patch_leaves_no_image_builder_resource_behind(patched):
    assert patched["resources_after"] == patched["resources_before"]


def test_a_second_patch_after_approval_bumps_the_patch_number(user, patched):
    lifecycle_id = patched["lifecycle_id"]
    approve(user, lifecycle_id, "Patch")
    first = ami(current_patch_events(patched["status"])["PATCH_AMI"])
    assert channel(user) == first["image"]
    before = image_builder_resources(user)

    result = patch(user, lifecycle_id, "PATCH")

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "PATCH_AMI ended COMPLETED"
    status = user.status(lifecycle_id)
    second = current_patch_events(status)["PATCH_AMI"]
    major = first["ami_semver"].split(".")[0]
    assert ami(second)["ami_semver"] == f"{major}.1.1"
    assert second["properties"]["ami_ancestry"].endswith(
        f"{first['image']} (v{major}.1.0) -> {ami(second)['image']} (v{major}.1.1)")
    assert len(status["outputs_ami_patch"]["patch_history"]["historical"]) == 1
    assert image_builder_resources(user) == before
    approve(user, lifecycle_id, "Patch")
    assert channel(user) == ami(second)["image"]


def test_a_failing_patch_build_ends_in_error_and_leaves_no_image_builder_resource(user):
    lifecycle_id = build(user)
    approve(user, lifecycle_id)
    before = image_builder_resources(user)
    user.shell("python3 -m local fault set imagebuilder build-fail --count 1")

    result = patch(user, lifecycle_id, "MINOR")

    assert result.returncode != 0
    assert result.stderr.splitlines()[-1].startswith("PATCH_AMI ended ERROR: ImageBuildFailed")
    in_progress = user.status(lifecycle_id)["event_in_progress"]
    assert (in_progress["name"], in_progress["status"]) == ("PATCH_AMI", "ERROR")
    assert image_builder_resources(user) == before


def test_a_patch_while_a_patch_runs_is_refused_with_409(user):
    lifecycle_id = build(user)
    approve(user, lifecycle_id)
    first = patch(user, lifecycle_id, "MINOR", wait=False)
    assert first.returncode == 0, first.stderr

    second = patch(user, lifecycle_id, "MINOR", wait=False)

    assert second.returncode != 0
    assert "409" in second.stderr and "PATCH_AMI is in progress" in second.stderr
    followed = user.api_cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", lifecycle_id, *WAIT)
    assert followed.returncode == 0, followed.stderr
    assert len(user.status(lifecycle_id)["outputs_ami_patch"]["patch_history"]["historical"]) == 0


def test_a_bad_component_document_is_refused_with_400_and_nothing_is_stored(user, tmp_path):
    lifecycle_id = build(user)
    approve(user, lifecycle_id)
    before_status = user.status(lifecycle_id)
    before = image_builder_resources(user)
    document = tmp_path / "broken.yml"
    document.write_text("name: broken\nschemaVersion: 1.0\nphases:\n  - name: deploy\n    steps: []\n")

    result = patch(user, lifecycle_id, "MINOR", component=str(document))

    assert result.returncode != 0
    assert "400" in result.stderr and "phases[0]" in result.stderr and "build, validate, test" in result.stderr
    assert "removed the uploaded patch component" in result.stderr
    after_status = user.status(lifecycle_id)
    assert "inputs_ami_patch" not in after_status and not after_status.get("event_in_progress")
    assert after_status["last_modified"] == before_status["last_modified"]
    assert image_builder_resources(user) == before
    bucket = output(user, "amiLifecyclePatchComponentBucket")
    listed = user.aws("s3").list_object_versions(Bucket=bucket, Prefix=f"{lifecycle_id}/")
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")
