"""Smoke-test and vulnerability-scan results, the severity gate and their AMI tags."""

from __future__ import annotations

import json

import pytest

from orchestrator.domain.errors import ValidationError
from orchestrator.domain.scans import gate_for, parse_gate, scan_result, summarize_findings
from orchestrator.domain.smoke_tests import smoke_test_result
from orchestrator.domain.tags import ami_tags
from orchestrator.domain.vocabulary import Status

from .domain_builders import LIFECYCLE_ID, NOW, completed, new_record

PASSED_REPORT = {"smoke_tests_status": "PASSED", "total": 3, "passed": 3, "failed": 0, "failed_tests": [],
                 "tests": [{"name": "t", "outcome": "passed"}], "log_group": "/g", "log_stream": "s"}
FAILED_REPORT = {**PASSED_REPORT, "smoke_tests_status": "FAILED", "passed": 2, "failed": 1,
                 "failed_tests": ["test_hardening.py::test_sshd_setting[PermitRootLogin-no]"]}


def finding(severity: str, score: float = 5.0, title: str = "CVE") -> dict:
    return {"title": title, "severity": severity, "inspectorScore": score, "findingArn": f"arn:{title}",
            "packageVulnerabilityDetails": {"vulnerabilityId": title,
                                            "vulnerablePackages": [{"name": "openssl", "version": "1.0"}]}}


# ------------------------------------------------------------------- smoke tests

def test_a_passed_suite_completes_the_event_with_its_counts_and_log():
    result = smoke_test_result(lifecycle_id=LIFECYCLE_ID, event="SMOKE_TESTS_AMI_CREATE",
                               outcome={"report": PASSED_REPORT}, instance_ids=["i-1"], now=NOW)
    assert result.status is Status.COMPLETED
    assert result.properties["total"] == 3 and result.properties["log_stream"] == "s"
    assert result.properties["smoke_test_ec2_instance_id"] == "i-1"
    assert "tests" not in result.properties and "failure_reason" not in result.properties


def test_a_failed_suite_fails_the_event_naming_the_tests_from_the_failure_cause():
    failure = {"Error": "SmokeTestsFailed", "Cause": json.dumps(FAILED_REPORT)}
    result = smoke_test_result(lifecycle_id=LIFECYCLE_ID, event="SMOKE_TESTS_AMI_PATCH",
                               outcome={"report": {}, "failure": failure}, instance_ids=[], now=NOW)
    assert result.status is Status.FAILED
    assert result.properties["failed_tests"] == FAILED_REPORT["failed_tests"]
    assert "PermitRootLogin" in result.properties["failure_reason"]
    assert result.attributes["operation_type"] == "ami-patch"


@pytest.mark.parametrize("outcome, message", [
    ({}, "expected a report or a failure"),
    ({"failure": {"Cause": "not json"}}, "its cause is not a report"),
    ({"report": {**PASSED_REPORT, "smoke_tests_status": "MAYBE"}}, "expected PASSED or FAILED"),
    ({"report": {**PASSED_REPORT, "failed": 1}}, "PASSED with failing tests"),
    ({"report": {**PASSED_REPORT, "total": -1}}, "total: expected a whole number"),
])
def test_a_report_that_is_not_one_is_refused_naming_what_is_wrong(outcome, message):
    with pytest.raises(ValidationError, match=message):
        smoke_test_result(lifecycle_id=LIFECYCLE_ID, event="SMOKE_TESTS_AMI_CREATE", outcome=outcome,
                          instance_ids=None, now=NOW)


def test_only_smoke_events_take_a_smoke_result():
    with pytest.raises(ValidationError, match="event"):
        smoke_test_result(lifecycle_id=LIFECYCLE_ID, event="BUILD_AMI", outcome={"report": PASSED_REPORT},
                          instance_ids=None, now=NOW)


# ------------------------------------------------------------------ severity gate

def test_a_gate_allows_at_most_its_counts():
    gate = parse_gate("critical=0, HIGH = 2")
    assert gate.rule == "CRITICAL=0,HIGH=2"
    assert gate.tripped_by({"CRITICAL": 0, "HIGH": 2, "MEDIUM": 40}) == []
    assert gate.tripped_by({"CRITICAL": 1, "HIGH": 3}) == ["CRITICAL", "HIGH"]


def test_an_empty_gate_never_trips():
    assert parse_gate("").tripped_by({"CRITICAL": 9}) == []


@pytest.mark.parametrize("text", ["CRITICAL", "SEVERE=1", "HIGH=-1", "HIGH=1,HIGH=2", "HIGH=one"])
def test_a_malformed_gate_is_refused_with_the_shape_expected(text):
    with pytest.raises(ValidationError, match="vulnerability_gate"):
        parse_gate(text)


def test_the_lifecycles_own_gate_wins_over_the_deployments():
    assert gate_for({"vulnerability_gate": "HIGH=0"}, "CRITICAL=0").rule == "HIGH=0"
    assert gate_for({}, "CRITICAL=0").rule == "CRITICAL=0"


# ------------------------------------------------------------------- scan result

def test_a_scan_within_the_gate_completes_with_its_counts_report_and_sbom():
    summary = summarize_findings([finding("HIGH"), finding("LOW"), finding("LOW")])
    result = scan_result(lifecycle_id=LIFECYCLE_ID, event="VULNERABILITY_SCANS_AMI_CREATE", summary=summary,
                         gate=parse_gate("CRITICAL=0"), report={"S3Bucket": "b", "S3Key": "findings/r.json"},
                         sbom={"S3Bucket": "b", "S3Key": "sbom/r/i-1.json"}, instance_id="i-1", now=NOW)
    assert result.status is Status.COMPLETED
    assert result.properties["vulnerability_severities"]["LOW"] == 2
    assert result.properties["total_vulnerabilities"] == 3
    assert result.properties["severity_gate"] == {"rule": "CRITICAL=0", "passed": True, "tripped_by": []}


def test_a_tripped_gate_fails_the_scan_with_the_findings_that_tripped_it_worst_first():
    summary = summarize_findings([finding("MEDIUM", title="m"), finding("CRITICAL", 7.0, "c1"),
                                  finding("CRITICAL", 9.8, "c2")])
    result = scan_result(lifecycle_id=LIFECYCLE_ID, event="VULNERABILITY_SCANS_AMI_PATCH", summary=summary,
                         gate=parse_gate("CRITICAL=0"), report=None, sbom=None, instance_id=None, now=NOW)
    assert result.status is Status.FAILED
    assert [f["title"] for f in result.properties["tripping_findings"]] == ["c2", "c1"]
    assert result.properties["failure_reason"] == "the severity gate CRITICAL=0 tripped: CRITICAL 2 > 0"


def test_scan_and_smoke_results_are_tagged_on_the_ami_within_tag_limits():
    record = completed(new_record(), "BUILD_AMI")
    scan = scan_result(lifecycle_id=LIFECYCLE_ID, event="VULNERABILITY_SCANS_AMI_CREATE",
                       summary=summarize_findings([finding("CRITICAL")]), gate=parse_gate("CRITICAL=0"),
                       report={"S3Bucket": "b", "S3Key": "findings/r.json"},
                       sbom={"S3Bucket": "b", "S3Key": "sbom/r/i.json"}, instance_id="i-1", now=NOW)
    tags = ami_tags(record, scan)
    prefix = "AMI_LC_EVENT_VULNERABILITY_SCANS_AMI_CREATE_"
    assert tags[prefix + "STATUS"] == "FAILED"
    assert tags[prefix + "SBOM"] == "s3://b/sbom/r/i.json"
    assert tags[prefix + "SEVERITY_GATE"] == "CRITICAL=0: FAILED (CRITICAL)"
    smoke = smoke_test_result(lifecycle_id=LIFECYCLE_ID, event="SMOKE_TESTS_AMI_CREATE",
                              outcome={"failure": {"Cause": json.dumps({**FAILED_REPORT,
                                                                        "failed_tests": ["x" * 400]})}},
                              instance_ids=None, now=NOW)
    smoke_tags = ami_tags(record, smoke)
    assert smoke_tags["AMI_LC_EVENT_SMOKE_TESTS_AMI_CREATE_TESTS"] == "2 of 3 passed"
    assert all(len(value) <= 255 for value in smoke_tags.values())
