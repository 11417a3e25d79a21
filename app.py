#!/usr/bin/env python3
"""CDK entry point: builds the five stacks from cdk.json's projectSettings (and ``-c projectSettings.*``).

``-c nag=true`` also runs cdk-nag's AwsSolutions pack (stacks/nag.py): a finding aborts the synthesis.
"""

import sys

import aws_cdk as cdk

from stacks.settings import SettingsError, context_overrides, load_settings

app = cdk.App()
try:
    settings = load_settings(context_stack_tag=app.node.try_get_context("stackTag"),
                             overrides=context_overrides(app.node.get_all_context()))
except SettingsError as error:
    sys.exit(f"settings error: {error}")

from stacks.app import build_app  # noqa: E402  (settings errors first, before heavy imports)

stacks = build_app(app, settings)
from stacks import nag  # noqa: E402

if nag.enabled(app):
    nag.apply(app, list(stacks.all()))
app.synth()
