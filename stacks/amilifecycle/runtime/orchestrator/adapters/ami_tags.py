"""Writing the lifecycle's tags onto AMIs (EC2 ``CreateTags``).

Which tags an AMI gets is the domain's business (``domain.tags.ami_tags``).
This adapter knows *where* each AMI lives: an AMI of this account is tagged
with the function's own credentials, in the AMI's region; an AMI published
to a distribution account (listed in ``DISTRIBUTION_ACCOUNTS``) is tagged
through the tagger role of that account (``TAGGER_ROLE_NAME``), which the
AmiLifecycleTagger stack deploys. An AMI of any other account is left
alone: the orchestrator was not given a way in. The assumed role's session
is kept per account for the life of the container (renewed shortly before
its credentials expire), so a warm function makes one STS call per
distribution account, not one per AMI.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

import boto3
from botocore.exceptions import ClientError

from ..domain.tags import MAX_TAG_VALUE_LENGTH
from . import aws

log = logging.getLogger(__name__)

DEFAULT_SESSION_NAME = "AMI-TAGGING-OP"
# EC2 accepts at most 50 tags per resource and request.
MAX_TAGS_PER_CALL = 50


@dataclass(frozen=True)
class TagRead:
    """The tags an AMI copy carries; ``tags`` is ``None`` (and ``reason`` says why) when it cannot be read."""

    ami_id: str
    region: str
    account_id: str
    tags: dict[str, str] | None
    reason: str = ""


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

    def _ec2_for(self, ami: Mapping[str, Any]) -> tuple[Any | None, str, str]:
        """``(client, account, reason)``: the EC2 client that reaches ``ami``'s account and region,
        or ``None`` and why not."""
        region = str(ami.get("region"))
        if self.is_own(ami):
            return self._client_factory("ec2", region=region), self.account_id(), ""
        account = str(ami.get("accountId"))
        if account in self.distribution_accounts:
            return (self._client_factory("ec2", region=region, role_arn=self._role_arn(account),
                                         session_name=self.session_name), account, "")
        return None, account, f"account {account} is not a distribution account"

    def tag(self, ami: Mapping[str, Any], tags: Mapping[str, str]) -> TagWrite:
        """Put ``tags`` on one ``ami_details`` entry (``image``, ``region``, ``accountId``)."""
        ami_id, region = str(ami.get("image")), str(ami.get("region"))
        if not tags:
            account = self.account_id() if self.is_own(ami) else str(ami.get("accountId"))
            return TagWrite(ami_id, region, account, tagged=False, reason="no tags to write")
        ec2, account, reason = self._ec2_for(ami)
        if ec2 is None:
            log.info("AMI %s in %s belongs to account %s, which is not a distribution account: not tagged",
                     ami_id, region, account)
            return TagWrite(ami_id, region, account, tagged=False, reason=reason)
        pairs = [{"Key": key, "Value": str(value)[:MAX_TAG_VALUE_LENGTH]} for key, value in sorted(tags.items())]
        for start in range(0, len(pairs), MAX_TAGS_PER_CALL):
            ec2.create_tags(Resources=[ami_id], Tags=pairs[start:start + MAX_TAGS_PER_CALL])
        return TagWrite(ami_id, region, account, tagged=True)

    def read(self, ami: Mapping[str, Any]) -> TagRead:
        """The tags one ``ami_details`` entry carries now, read where it lives."""
        ami_id, region = str(ami.get("image")), str(ami.get("region"))
        ec2, account, reason = self._ec2_for(ami)
        if ec2 is None:
            return TagRead(ami_id, region, account, tags=None, reason=reason)
        try:
            images = ec2.describe_images(ImageIds=[ami_id]).get("Images") or []
        except ClientError as error:
            if not str(error.response.get("Error", {}).get("Code", "")).startswith("InvalidAMIID"):
                raise
            images = []
        if not images:
            return TagRead(ami_id, region, account, tags=None,
                           reason=f"AMI {ami_id} does not exist in {region} of account {account}")
        tags = {str(tag["Key"]): str(tag.get("Value", "")) for tag in images[0].get("Tags") or []}
        return TagRead(ami_id, region, account, tags=tags)

    def _role_arn(self, account: str) -> str:
        return f"arn:{self._caller()[1]}:iam::{account}:role/{self.tagger_role_name}"


# Credentials are renewed this long before the assumed role's session expires.
CREDENTIALS_MARGIN = timedelta(minutes=5)

_clients: dict[tuple[str | None, str, str], Any] = {}
_sessions: dict[str, tuple[boto3.session.Session, datetime]] = {}
_clients_lock = threading.Lock()


def _assumed_session(role_arn: str, session_name: str) -> boto3.session.Session:
    """A session with ``role_arn``'s credentials: one STS call per role while they stay valid (the
    lock is held: concurrent callers wait for the one call instead of making their own)."""
    cached = _sessions.get(role_arn)
    if cached is not None and cached[1] - CREDENTIALS_MARGIN > datetime.now(timezone.utc):
        return cached[0]
    credentials = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    expiration = credentials.get("Expiration")
    if not isinstance(expiration, datetime):
        expiration = datetime.now(timezone.utc) + timedelta(minutes=15)
    _sessions[role_arn] = (session, expiration if expiration.tzinfo else expiration.replace(tzinfo=timezone.utc))
    for key in [key for key in _clients if key[0] == role_arn]:
        del _clients[key]
    return session


def _default_client(service: str, *, region: str, role_arn: str | None = None,
                    session_name: str | None = None) -> Any:
    """A client in ``region``, with the function's credentials or those of ``role_arn``; both cached
    per container (assumed credentials until shortly before they expire)."""
    with _clients_lock:
        # Renewing the assumed session first drops the clients made with its old credentials.
        session = None if role_arn is None else _assumed_session(role_arn, session_name or DEFAULT_SESSION_NAME)
        key = (role_arn, service, region)
        if key not in _clients:
            _clients[key] = (session or boto3.session.Session()).client(service, region_name=region,
                                                                       config=aws.CLIENT_CONFIG)
        return _clients[key]


def forget_sessions() -> None:
    """Drop every cached client and assumed session (tests that switch accounts)."""
    with _clients_lock:
        _clients.clear()
        _sessions.clear()
