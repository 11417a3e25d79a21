"""Timeline pages of a known lifecycle, for the browser tests and the documentation screenshot.

The lifecycle is built with the domain's own functions (the builders of the
domain tests), so the page shows what a real record at that stage shows.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

RUNTIME_ROOT = Path(__file__).resolve().parents[2] / "stacks" / "amilifecycle" / "runtime"
if str(RUNTIME_ROOT) not in sys.path:
    sys.path.insert(0, str(RUNTIME_ROOT))

from orchestrator.domain import records  # noqa: E402
from orchestrator.domain.timeline import build_timeline  # noqa: E402
from orchestrator.domain.vocabulary import EventName, LifecycleType  # noqa: E402
from orchestrator.rendering import render_timeline  # noqa: E402

from tests.unit.domain_builders import (BUILT_AMI, LIFECYCLE_ID, NOW, ami, later, new_record,  # noqa: E402
                                        result)

RENDERED_AT = datetime(2026, 11, 23, 10, 5, 0, tzinfo=timezone.utc)
SEMVER = "1.0.0"
STACK_TAG_SEMVER = "1.0.0"
HOSTILE_PRODUCT_NAME = '<script>document.title="owned"</script>'
HOSTILE_PROPERTY = '<img src="x" onerror="document.title=1">'

__all__ = ["BUILT_AMI", "LIFECYCLE_ID", "SEMVER", "HOSTILE_PRODUCT_NAME", "HOSTILE_PROPERTY",
           "completed_build_page"]


def completed_build_page(*, hostile: bool = True) -> str:
    """The creation timeline right after BUILD_AMI completed.

    With ``hostile`` the product name and an event property hold markup, as
    an attacker with a create key could send them; without, the page is the
    one the documentation shows.
    """
    product_name = HOSTILE_PRODUCT_NAME if hostile else "billing-service"
    record = new_record(product_name=product_name)
    record = records.mark_event_in_progress(record, EventName.BUILD_AMI, NOW, description="Build the AMI",
                                            properties={"product_name": product_name})
    properties = {
        "ami_details": [ami(BUILT_AMI, SEMVER)],
        "imagebuilder_image_arn": "arn:aws:imagebuilder:eu-west-1:123456789012:image/amilifecycle-recipe/1.0.0/1",
        "imagebuilder_recipe_components": [
            {"componentArn": "arn:aws:imagebuilder:eu-west-1:aws:component/amazon-cloudwatch-agent-linux/1.0.1/1"},
            {"componentArn": "arn:aws:imagebuilder:eu-west-1:123456789012:component/os-hardening/1.0.0/1"},
        ],
    }
    if hostile:
        properties["build_note"] = HOSTILE_PROPERTY
    outcome = result(EventName.BUILD_AMI, minutes=4, properties=properties, commit_ref="3f9c2ab")
    record = records.record_event_result(record, outcome, later(4))
    view = build_timeline(record, LifecycleType.AMI_CREATION, stack_tag_semver=STACK_TAG_SEMVER)
    return render_timeline(view, rendered_at=RENDERED_AT)
