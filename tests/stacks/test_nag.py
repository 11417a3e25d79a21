"""cdk-nag's AwsSolutions pack finds nothing unacknowledged, and every acknowledgement has a reason."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def nagged(settings, tmp_path_factory):
    import aws_cdk as cdk

    from stacks import nag
    from stacks.app import build_app
    from stacks.settings import load_cdk_context

    outdir = tmp_path_factory.mktemp("nag-cdk.out")
    app = cdk.App(context={**load_cdk_context(), nag.NAG_CONTEXT_KEY: "true"}, outdir=str(outdir))
    stacks = list(build_app(app, settings).all())
    assert nag.enabled(app)
    nag.apply(app, stacks)
    try:
        app.synth()
        error = None
    except Exception as raised:  # noqa: BLE001 - the validation failure is what the test reports
        error = raised
    return outdir, error, nag.acknowledgements(stacks)


def test_the_aws_solutions_pack_reports_no_unacknowledged_finding(nagged):
    outdir, error, _ = nagged
    report = outdir / "validation-report.json"
    violations = []
    if report.exists():
        for plugin in json.loads(report.read_text())["pluginReports"]:
            violations += [(v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
                           for v in plugin["violations"] if v.get("severity") == "error"]
    assert error is None and not violations, violations


def test_every_acknowledgement_gives_a_reason(nagged):
    _, _, acknowledged = nagged
    assert acknowledged
    assert all(len(reason) > 40 for reason in acknowledged.values())


def test_nag_is_off_unless_asked_for():
    import aws_cdk as cdk

    from stacks import nag

    assert not nag.enabled(cdk.App())
    assert nag.enabled(cdk.App(context={"nag": "true"}))
