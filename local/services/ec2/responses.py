"""EC2 operations simulated here, in EC2's query protocol: parameters parsed
from the form by botocore's model (through moto's EC2 parser), answers
written as EC2's XML by moto's EC2 serializer, errors as EC2's
``<Response><Errors>`` document."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any, Callable
from xml.sax.saxutils import escape

from moto.core.parse import PROTOCOL_PARSERS
from moto.core.serialize import SerializationContext, XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from . import models
from .exceptions import InvalidPaginationToken, InvalidParameterValue, MissingParameter

Handler = Callable[[str, str, dict[str, Any]], dict[str, Any]]
EXPORT_TASK_STATES = ("active", "completed", "deleting", "deleted")
STORE_TASK_STATES = ("InProgress", "Completed", "Failed")


def parse(operation: str, values: MultiDict) -> dict[str, Any]:
    parser = PROTOCOL_PARSERS["ec2"](get_service_model("ec2").operation_model(operation))
    return parser.parse({"method": "POST", "values": values, "headers": {}, "body": b"",
                         "url_path": "/", "url_params": {}})


def success(operation: str, result: dict[str, Any]) -> Response:
    request_id = str(uuid.uuid4())
    serializer = get_serializer_class("ec2", "ec2")(
        get_service_model("ec2").operation_model(operation),
        context=SerializationContext(request_id=request_id), value_picker=XFormedAttributePicker(),
    )
    body = serializer.serialize(result)["body"]
    return Response(body, status=200, content_type="text/xml")


def error(code: str, message: str, status: int) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    )
    return Response(body, status=status, content_type="text/xml")


def _required(params: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if not params.get(name)]
    if missing:
        raise MissingParameter(f"The request must contain the parameter {', '.join(missing)}")


def _filter_values(params: dict[str, Any], allowed: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for flt in params.get("Filters") or []:
        name = flt.get("Name")
        if name not in allowed:
            raise InvalidParameterValue(f"The filter '{name}' is invalid; use one of: {', '.join(allowed)}.")
        chosen[name] = flt.get("Values") or []
    return chosen


def _page(items: list[Any], params: dict[str, Any], limit: int) -> tuple[list[Any], str | None]:
    size = params.get("MaxResults") or limit
    if not 1 <= size <= limit:
        raise InvalidParameterValue(f"MaxResults must be between 1 and {limit}, got {size}.")
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError):
            raise InvalidPaginationToken(token) from None
    end = start + size
    return items[start:end], (base64.b64encode(json.dumps({"offset": end}).encode()).decode()
                              if end < len(items) else None)


def export_image(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "ImageId", "DiskImageFormat", "S3ExportLocation")
    task = models.export_image(account_id, region, params)
    return models.export_task_view(task, time.time())


def describe_export_image_tasks(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    filters = _filter_values(params, {"task-state": EXPORT_TASK_STATES, "image-id": ()})
    now = time.time()
    views = [models.export_task_view(t, now)
             for t in models.describe_export_tasks(account_id, region, params.get("ExportImageTaskIds") or [])]
    if "task-state" in filters:
        views = [v for v in views if v["Status"] in filters["task-state"]]
    if "image-id" in filters:
        views = [v for v in views if v["ImageId"] in filters["image-id"]]
    page, token = _page(views, params, 500)
    return {"ExportImageTasks": page, **({"NextToken": token} if token else {})}


def cancel_export_task(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "ExportTaskId")
    models.cancel_export_task(account_id, region, params["ExportTaskId"])
    return {}


def create_store_image_task(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "ImageId", "Bucket")
    return {"ObjectKey": models.create_store_image_task(account_id, region, params).key}


def describe_store_image_tasks(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    filters = _filter_values(params, {"task-state": STORE_TASK_STATES, "bucket": ()})
    image_ids = params.get("ImageIds") or []
    if image_ids and (params.get("MaxResults") or params.get("NextToken")):
        raise InvalidParameterValue("ImageIds cannot be combined with MaxResults or NextToken.")
    now = time.time()
    views = [models.store_task_view(t, now) for t in models.describe_store_tasks(account_id, region, image_ids)]
    if "task-state" in filters:
        views = [v for v in views if v["StoreTaskState"] in filters["task-state"]]
    if "bucket" in filters:
        views = [v for v in views if v["Bucket"] in filters["bucket"]]
    page, token = _page(views, params, 200)
    return {"StoreImageTaskResults": page, **({"NextToken": token} if token else {})}


def enable_image_deprecation(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "ImageId", "DeprecateAt")
    models.enable_image_deprecation(account_id, region, params["ImageId"], params["DeprecateAt"])
    return {"Return": True}


def disable_image_deprecation(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "ImageId")
    models.disable_image_deprecation(account_id, region, params["ImageId"])
    return {"Return": True}


OPERATIONS: dict[str, Handler] = {
    "ExportImage": export_image,
    "DescribeExportImageTasks": describe_export_image_tasks,
    "CancelExportTask": cancel_export_task,
    "CreateStoreImageTask": create_store_image_task,
    "DescribeStoreImageTasks": describe_store_image_tasks,
    "EnableImageDeprecation": enable_image_deprecation,
    "DisableImageDeprecation": disable_image_deprecation,
}
