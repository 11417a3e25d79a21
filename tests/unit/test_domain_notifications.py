"""Notification messages: subjects within SNS limits, lifecycle_id attribute, no secrets."""

import json

from orchestrator.domain import notifications as n, records
from orchestrator.domain.errors import Conflict
from orchestrator.domain.vocabulary import EventName as E, LifecycleType, Operator

from .domain_builders import LIFECYCLE_ID, NOW, completed, new_record


def test_event_notification_subject_names_operator_and_stack_tag():
    message = n.event_notification(Operator.AMI_CREATION_POST, new_record(), NOW)

    assert message.subject == "AMI_CREATION_POST event for main"


def test_every_message_carries_the_lifecycle_id_attribute():
    message = n.event_notification(Operator.AMI_CREATION_POST, new_record(), NOW)

    assert message.message_attributes()["lifecycle_id"] == {"DataType": "String", "StringValue": LIFECYCLE_ID}


def test_subject_is_cut_to_98_characters():
    subject = n.subject_line("ERROR in AMI_CREATION_MARK_FOR_PRODUCTION_APPROVAL_POST event for " + "x" * 80)

    assert len(subject) == 98 and subject.endswith("...")


def test_subject_is_one_line_of_printable_ascii():
    assert n.subject_line("Build\nfinished \u2713 ok") == "Build finished ok"


def test_empty_subject_gets_a_default():
    assert n.subject_line("\n") == "AMI lifecycle notification"


def test_event_notification_body_is_the_public_record():
    record = records.mark_event_in_progress(new_record(), E.BUILD_AMI, NOW, description="build",
                                            statemachine_input={"api_key": "k-secret"})

    message = n.event_notification(Operator.AMI_CREATION_POST, record, NOW, event={"api_key": "k-secret", "x": 1})

    assert "k-secret" not in json.dumps(message.template_context())
    assert message.body["event"] == {"x": 1}


def test_error_notification_carries_the_domain_error_body():
    message = n.error_notification(Operator.AMI_CREATION_PUT, "main", LIFECYCLE_ID, Conflict("BUILD_AMI is running"),
                                   NOW)

    assert message.subject == "ERROR in AMI_CREATION_PUT event for main"
    assert message.body["error"] == {"error": "BUILD_AMI is running", "code": "CONFLICT"}


def test_error_notification_of_an_unexpected_exception_names_its_type():
    message = n.error_notification(Operator.AMI_PATCH_RECEIVER, "main", None, KeyError("ami_details"), NOW)

    assert message.body["error"]["code"] == "KeyError" and "lifecycle_id" not in message.message_attributes()


def test_nothing_to_start_notification_lists_the_enabled_events():
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                       "QA_CERTIFICATION_REQUEST")

    message = n.nothing_to_start_notification(record, LifecycleType.AMI_CREATION, NOW)

    assert (message.kind, message.operator) == (n.NotificationKind.INFO, Operator.ORCHESTRATOR_SERVICE)
    assert message.body["details"]["enabled_events"] == sorted(
        ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"])
    assert "PUT /ami-creation/lifecycles" in message.body["message"]


def test_sent_at_is_iso_utc():
    assert n.info_notification(Operator.RECONCILER, "main", None, "ok", NOW).sent_at == "2026-11-23T10:00:00Z"
