"""Shared fixtures: the app is synthesized once per test session, with the
same cdk.json context the CDK CLI hands to app.py (feature flags included),
so template assertions see what `cdk synth` produces."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")


@pytest.fixture(scope="session")
def settings():
    from stacks.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def app_stacks(settings, tmp_path_factory):
    import aws_cdk as cdk

    from stacks.app import build_app
    from stacks.settings import load_cdk_context

    app = cdk.App(context=load_cdk_context(), outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stacks = build_app(app, settings)
    app.synth()
    return stacks


@pytest.fixture(scope="session")
def templates(app_stacks):
    """Construct id -> aws_cdk.assertions.Template for every stack."""
    from aws_cdk.assertions import Template

    return {stack.node.id: Template.from_stack(stack) for stack in app_stacks.all()}
