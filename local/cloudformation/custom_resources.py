"""Lambda-backed custom resources, with CloudFormation's request/response
protocol.

CloudFormation sends the function a Create/Update/Delete request carrying a
``ResponseURL``; the function (cfn-response, CDK's provider framework, ...)
PUTs its verdict there. Locally the ResponseURL is an admin route of the
local cloud (``/_local/cloudformation/responses/<token>``), the function
is invoked through moto's Lambda backend (so the real handler runs), and
the verdict decides: SUCCESS gives the physical id and the ``Data`` that
``Fn::GetAtt`` reads; FAILED, or no reply at all, fails the resource with
the function's own reason. moto's built-in model would instead post to a
Docker host name, ignore FAILED and leave the stack in progress forever.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel

from local.cloudformation.base import ResourceModel

# Seconds to wait for a reply after the function returned: cfn-response
# replies before returning, so this only covers a reply sent from a thread.
_REPLY_GRACE_SECONDS = 10.0

_endpoint_url = "http://127.0.0.1:4566"
_lock = threading.Lock()


@dataclass
class _PendingReply:
    arrived: threading.Event = field(default_factory=threading.Event)
    body: dict[str, Any] | None = None


_pending: dict[str, _PendingReply] = {}


class CustomResourceFailed(Exception):
    """The function answered FAILED, or never answered."""


def configure(endpoint_url: str) -> None:
    global _endpoint_url
    _endpoint_url = endpoint_url.rstrip("/")


def receive_response(token: str, raw_body: bytes) -> None:
    """Record a function's reply (called by the admin route)."""
    with _lock:
        pending = _pending.get(token)
    if pending is None:
        raise KeyError(f"no custom resource request is waiting for reply {token}")
    try:
        body = json.loads(raw_body or b"{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"custom resource reply is not JSON: {error}") from None
    if body.get("Status") not in ("SUCCESS", "FAILED"):
        raise ValueError("custom resource reply needs Status SUCCESS or FAILED")
    pending.body = body
    pending.arrived.set()


def send_request(
    request_type: str,
    *,
    service_token: str,
    account_id: str,
    region_name: str,
    stack_id: str,
    logical_id: str,
    resource_type: str,
    properties: dict[str, Any],
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Send one lifecycle request to the function behind ``service_token``
    and return its SUCCESS reply; raise :class:`CustomResourceFailed`."""
    if ":sns:" in service_token:
        raise CustomResourceFailed(
            f"{logical_id}: SNS-backed custom resources are not supported by the local cloud "
            "(ServiceToken must be a Lambda function ARN)"
        )
    token = uuid.uuid4().hex
    request_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": f"{_endpoint_url}/_local/cloudformation/responses/{token}",
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties

    pending = _PendingReply()
    with _lock:
        _pending[token] = pending
    try:
        function = get_backend("lambda")[account_id][region_name].get_function(service_token)
        response_headers: dict[str, Any] = {}
        result = function.invoke(json.dumps(event), {}, response_headers)
        errored = "x-amz-function-error" in response_headers
        if not pending.arrived.wait(0 if errored else _REPLY_GRACE_SECONDS) and pending.body is None:
            detail = result.decode("utf-8", "replace") if isinstance(result, bytes) else str(result)
            raise CustomResourceFailed(
                f"{logical_id}: the custom resource function did not send a response to its "
                f"{request_type} request ({'function error: ' + detail[:500] if errored else 'no reply'})"
            )
    finally:
        with _lock:
            _pending.pop(token, None)
    body = pending.body or {}
    if body.get("Status") != "SUCCESS":
        raise CustomResourceFailed(
            f"Received response status [FAILED] from custom resource. Message returned: "
            f"{body.get('Reason') or 'no reason given'}"
        )
    return body


class LambdaBackedCustomResource(ResourceModel, CloudFormationModel):
    """``Custom::<anything>`` and ``AWS::CloudFormation::CustomResource``.
    Any attribute may be asked for: the function's ``Data`` decides."""

    cfn_type = "AWS::CloudFormation::CustomResource"

    def __init__(self, *, account_id: str, region_name: str, stack_id: str, logical_id: str,
                 resource_type: str, properties: dict[str, Any], physical_id: str,
                 data: dict[str, Any]) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.stack_id = stack_id
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.properties = properties
        self.physical_id = physical_id
        self.data = data

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.data:
            raise CustomResourceFailed(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute_name} "
                f"attribute in object {self.stack_id}|{self.logical_id}|{self.physical_id}"
            )
        return self.data[attribute_name]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> LambdaBackedCustomResource:
        properties = dict(cloudformation_json["Properties"])
        logical_id, stack_id = kwargs["LogicalId"], kwargs["StackId"]
        resource_type = kwargs.get("ResourceType", cloudformation_json.get("Type", ""))
        reply = send_request(
            "Create", service_token=_service_token(properties, logical_id), account_id=account_id,
            region_name=region_name, stack_id=stack_id, logical_id=logical_id,
            resource_type=resource_type, properties=properties,
        )
        return cls(
            account_id=account_id, region_name=region_name, stack_id=stack_id, logical_id=logical_id,
            resource_type=resource_type, properties=properties,
            physical_id=reply.get("PhysicalResourceId") or resource_name, data=reply.get("Data") or {},
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: LambdaBackedCustomResource, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> LambdaBackedCustomResource:
        old = original_resource
        properties = dict(cloudformation_json["Properties"])
        reply = send_request(
            "Update", service_token=_service_token(properties, old.logical_id), account_id=account_id,
            region_name=region_name, stack_id=old.stack_id, logical_id=old.logical_id,
            resource_type=old.resource_type, properties=properties, physical_id=old.physical_id,
            old_properties=old.properties,
        )
        new_physical_id = reply.get("PhysicalResourceId") or old.physical_id
        if new_physical_id != old.physical_id:
            # A new physical id means replacement: the old one is deleted.
            old.delete(account_id, region_name)
        return cls(
            account_id=account_id, region_name=region_name, stack_id=old.stack_id,
            logical_id=old.logical_id, resource_type=old.resource_type, properties=properties,
            physical_id=new_physical_id, data=reply.get("Data") or {},
        )

    def delete(self, account_id: str, region_name: str) -> None:
        send_request(
            "Delete", service_token=_service_token(self.properties, self.logical_id), account_id=account_id,
            region_name=region_name, stack_id=self.stack_id, logical_id=self.logical_id,
            resource_type=self.resource_type, properties=self.properties, physical_id=self.physical_id,
        )


def _service_token(properties: dict[str, Any], logical_id: str) -> str:
    token = properties.get("ServiceToken")
    if not token:
        raise CustomResourceFailed(f"{logical_id}: a custom resource needs a ServiceToken property")
    return str(token)
