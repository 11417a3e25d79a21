"""Writing the lifecycle's tags onto AMIs (EC2 ``CreateTags``).

Which tags an AMI gets is the domain's business (``domain.tags.ami_tags``).
This adapter knows *where* each AMI lives: an AMI of this account is tagged
with the function's own credentials, in the AMI's region; an AMI published
to a distribution account (listed in ``DISTRIBUTION_ACCOUNTS``) is tagged
through the tagger role of that account (``TAGGER_ROLE_NAME``), which the
AmiLifecycleTagger stack deploys. An AMI of any other account is left
alone: the orchestrator was not given a way in.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import boto3

from ..domain.tags import MAX_TAG_VALUE_LENGTH
from . import aws

log = logging.getLogger(__name__)

DEFAULT_SESSION_NAME = "AMI-TAGGING-OP"
# EC2 accepts at most 50 tags per resource and request.
MAX_TAGS_PER_CALL = 50


@dataclass(frozen=True)
class TagWrite:
    """Where a set of tags went (or why it did not)."""

    ami_id: str
    region: str
    account_id: str
    tagged: bool
    reason: str = ""


def parse_accounts(raw: str | None) -> frozenset[str]:
    """``DISTRIBUTION_ACCOUNTS``: 12-digit account ids separated by commas (empty: none)."""
    accounts = frozenset(part.strip() for part in (raw or "").split(",") if part.strip())
    invalid = sorted(a for a in accounts if not (a.isdigit() and len(a) == 12))
    if invalid:
        raise ValueError(f"DISTRIBUTION_ACCOUNTS: expected 12-digit account ids separated by commas, "
                         f"got {', '.join(invalid)}")
    return accounts


class AmiTagger:
    """Tags AMIs in this account and, through the tagger role, in distribution accounts."""

    def __init__(self, *, tagger_role_name: str, distribution_accounts: frozenset[str] = frozenset(),
                 session_name: str = DEFAULT_SESSION_NAME,
                 client_factory: Callable[..., Any] | None = None) -> None:
        self.tagger_role_name = tagger_role_name
        self.distribution_accounts = distribution_accounts
        self.session_name = session_name
        self._client_factory = client_factory or _default_client
        self._identity: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def _caller(self) -> tuple[str, str]:
        """``(account id, partition)`` of this function (asked once per container)."""
        with self._lock:
            if self._identity is None:
                identity = aws.client("sts").get_caller_identity()
                arn = str(identity.get("Arn") or "")
                partition = arn.split(":", 2)[1] if arn.startswith("arn:") else "aws"
                self._identity = (str(identity["Account"]), partition)
            return self._identity

    def account_id(self) -> str:
        """This function's own account."""
        return self._caller()[0]

    def is_own(self, ami: Mapping[str, Any]) -> bool:
        """True for an AMI of this account (an entry without ``accountId`` is one)."""
        owner = ami.get("accountId")
        return not owner or str(owner) == self.account_id()

    def tag(self, ami: Mapping[str, Any], tags: Mapping[str, str]) -> TagWrite:
        """Put ``tags`` on one ``ami_details`` entry (``image``, ``region``, ``accountId``)."""
        ami_id, region = str(ami.get("image")), str(ami.get("region"))
        own = self.is_own(ami)
        account = self.account_id() if own else str(ami.get("accountId"))
        if not tags:
            return TagWrite(ami_id, region, account, tagged=False, reason="no tags to write")
        if own:
            ec2 = self._client_factory("ec2", region=region)
        elif account in self.distribution_accounts:
            ec2 = self._client_factory("ec2", region=region, role_arn=self._role_arn(account),
                                       session_name=self.session_name)
        else:
            log.info("AMI %s in %s belongs to account %s, which is not a distribution account: not tagged",
                     ami_id, region, account)
            return TagWrite(ami_id, region, account, tagged=False,
                            reason=f"account {account} is not a distribution account")
        pairs = [{"Key": key, "Value": str(value)[:MAX_TAG_VALUE_LENGTH]} for key, value in sorted(tags.items())]
        for start in range(0, len(pairs), MAX_TAGS_PER_CALL):
            ec2.create_tags(Resources=[ami_id], Tags=pairs[start:start + MAX_TAGS_PER_CALL])
        return TagWrite(ami_id, region, account, tagged=True)

    def _role_arn(self, account: str) -> str:
        return f"arn:{self._caller()[1]}:iam::{account}:role/{self.tagger_role_name}"


_own_clients: dict[tuple[str, str], Any] = {}
_own_clients_lock = threading.Lock()


def _default_client(service: str, *, region: str, role_arn: str | None = None,
                    session_name: str | None = None) -> Any:
    """A client in ``region``, with the function's credentials (cached per region) or those of
    ``role_arn`` (assumed afresh: the credentials are short-lived)."""
    if role_arn is None:
        with _own_clients_lock:
            key = (service, region)
            if key not in _own_clients:
                _own_clients[key] = boto3.session.Session().client(service, region_name=region,
                                                                   config=aws.CLIENT_CONFIG)
            return _own_clients[key]
    credentials = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name or
                                                 DEFAULT_SESSION_NAME)["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).client(service, region_name=region, config=aws.CLIENT_CONFIG)
