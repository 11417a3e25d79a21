"""The 14 API keys, one Secrets Manager secret each.

CloudFormation generates every value with Secrets Manager's cryptographic
generator when the secret is created and never again on a stack update, so
keys survive redeployments and no value ever appears in a template, a
stack output, custom-resource data or a Lambda environment. Readers get
the secret *names* (``/ami-lifecycle/<stack_tag>/api-keys/<leaf>``) and a
``GetSecretValue`` grant.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.settings import Settings

API_KEY_LENGTH = 40


def api_key_secret_prefix(stack_tag: str) -> str:
    """The path every API key secret of one deployment lives under."""
    return f"/ami-lifecycle/{stack_tag}/api-keys/"


def api_key_secret_name(stack_tag: str, leaf: str) -> str:
    """The full secret name of the API key ``leaf`` (a leaf name from cdk.json)."""
    return f"{api_key_secret_prefix(stack_tag)}{leaf}"


class ApiKeySecrets(Construct):
    """``by_leaf``: secret leaf name -> secret; ``by_setting``: cdk.json setting name -> secret."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.prefix = api_key_secret_prefix(settings.stack_tag)
        self.by_setting: dict[str, secretsmanager.Secret] = {}
        self.by_leaf: dict[str, secretsmanager.Secret] = {}
        for setting_name, leaf in settings.lifecycle.api.all_key_names.items():
            secret = secretsmanager.Secret(
                self,
                leaf,
                secret_name=api_key_secret_name(settings.stack_tag, leaf),
                description=f"AMI lifecycle API key '{leaf}' ({settings.stack_tag})",
                encryption_key=key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=API_KEY_LENGTH,
                    exclude_punctuation=True,
                    include_space=False,
                ),
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            self.by_setting[setting_name] = secret
            self.by_leaf[leaf] = secret
