"""The AMI tagger writes tags where each AMI lives, and only where it may."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from orchestrator.adapters.ami_tags import AmiTagger, parse_accounts
from tests.runtime.conftest import ACCOUNT, REGION, Cloud
from tests.runtime.conftest_build import ami_tags_of, register_ami

DISTRIBUTION_ACCOUNT = "210987654321"
ROLE_NAME = "amiLifecycleImageTaggerRole-main"


class RecordingFactory:
    """Client factory that remembers how each client was asked for, and serves moto's EC2."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, service: str, *, region: str, role_arn: str | None = None,
                 session_name: str | None = None) -> Any:
        self.requests.append({"service": service, "region": region, "role_arn": role_arn,
                              "session_name": session_name})
        return boto3.client(service, region_name=region)


@pytest.fixture
def factory() -> RecordingFactory:
    return RecordingFactory()


def tagger(factory: RecordingFactory, accounts: frozenset[str] = frozenset()) -> AmiTagger:
    return AmiTagger(tagger_role_name=ROLE_NAME, distribution_accounts=accounts, client_factory=factory)


@pytest.mark.usefixtures("cloud")
def test_an_ami_of_this_account_is_tagged_with_the_functions_own_credentials(factory: RecordingFactory) -> None:
    ami_id = register_ami()
    write = tagger(factory).tag({"image": ami_id, "region": REGION, "accountId": ACCOUNT},
                                {"AMI_LC_CURRENT_AMI_SEMVER": "1.0.0"})
    assert write.tagged
    assert ami_tags_of(ami_id)["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert factory.requests == [{"service": "ec2", "region": REGION, "role_arn": None, "session_name": None}]


@pytest.mark.usefixtures("cloud")
def test_an_ami_without_an_account_counts_as_this_accounts(factory: RecordingFactory) -> None:
    ami_id = register_ami()
    assert tagger(factory).tag({"image": ami_id, "region": REGION}, {"AMI_LC_LIFECYCLE_ID": "x"}).tagged


@pytest.mark.usefixtures("cloud")
def test_an_ami_of_a_distribution_account_is_tagged_through_the_tagger_role(factory: RecordingFactory) -> None:
    ami_id = register_ami()
    write = tagger(factory, frozenset({DISTRIBUTION_ACCOUNT})).tag(
        {"image": ami_id, "region": REGION, "accountId": DISTRIBUTION_ACCOUNT}, {"AMI_LC_LIFECYCLE_ID": "x"})
    assert write.tagged and write.account_id == DISTRIBUTION_ACCOUNT
    assert factory.requests[0]["role_arn"] == f"arn:aws:iam::{DISTRIBUTION_ACCOUNT}:role/{ROLE_NAME}"
    assert factory.requests[0]["session_name"] == "AMI-TAGGING-OP"


@pytest.mark.usefixtures("cloud")
def test_an_ami_of_any_other_account_is_left_alone(factory: RecordingFactory) -> None:
    write = tagger(factory).tag({"image": "ami-0123456789abcdef0", "region": REGION, "accountId": "111122223333"},
                                {"AMI_LC_LIFECYCLE_ID": "x"})
    assert not write.tagged and "not a distribution account" in write.reason
    assert factory.requests == []


@pytest.mark.usefixtures("cloud")
def test_tag_values_are_cut_to_what_ec2_accepts(factory: RecordingFactory) -> None:
    ami_id = register_ami()
    tagger(factory).tag({"image": ami_id, "region": REGION}, {"AMI_LC_AMI_ANCESTRY": "x" * 400})
    assert len(ami_tags_of(ami_id)["AMI_LC_AMI_ANCESTRY"]) == 255


def test_distribution_accounts_must_be_account_ids() -> None:
    assert parse_accounts(" 123456789012, 210987654321 ,") == frozenset({"123456789012", "210987654321"})
    assert parse_accounts("") == frozenset()
    with pytest.raises(ValueError, match="12-digit account ids.*prod"):
        parse_accounts("123456789012,prod")


def test_this_account_is_asked_once_per_container(cloud: Cloud, factory: RecordingFactory) -> None:
    calls = []
    real = boto3.client("sts", region_name=REGION)

    class CountingSts:
        def get_caller_identity(self) -> Any:
            calls.append(1)
            return real.get_caller_identity()

    import orchestrator.adapters.aws as aws

    aws._clients["sts"] = CountingSts()
    subject = tagger(factory)
    assert subject.is_own({"accountId": ACCOUNT}) and not subject.is_own({"accountId": "111122223333"})
    assert len(calls) == 1


def test_assumed_credentials_are_reused_until_shortly_before_they_expire(cloud: Cloud) -> None:
    from datetime import datetime, timezone

    import orchestrator.adapters.aws as aws
    from orchestrator.adapters import ami_tags

    real = boto3.client("sts", region_name=REGION)
    assumed = []

    class CountingSts:
        def assume_role(self, **kwargs: Any) -> Any:
            assumed.append(kwargs["RoleArn"])
            return real.assume_role(**kwargs)

    aws._clients["sts"] = CountingSts()
    ami_tags.forget_sessions()
    role = f"arn:aws:iam::{DISTRIBUTION_ACCOUNT}:role/{ROLE_NAME}"
    try:
        first = ami_tags._default_client("ec2", region=REGION, role_arn=role, session_name="AMI-TAGGING-OP")
        assert ami_tags._default_client("ec2", region=REGION, role_arn=role, session_name="AMI-TAGGING-OP") is first
        ami_tags._default_client("ec2", region="eu-west-1", role_arn=role, session_name="AMI-TAGGING-OP")
        assert assumed == [role]

        session, _ = ami_tags._sessions[role]
        ami_tags._sessions[role] = (session, datetime.now(timezone.utc) + ami_tags.CREDENTIALS_MARGIN / 2)
        renewed = ami_tags._default_client("ec2", region=REGION, role_arn=role, session_name="AMI-TAGGING-OP")
        assert assumed == [role, role] and renewed is not first
    finally:
        ami_tags.forget_sessions()
