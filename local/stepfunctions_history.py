"""GetExecutionHistory with its paging and ordering parameters.

moto answers GetExecutionHistory with every event, oldest first, whatever
the request says: ``reverseOrder``, ``maxResults``, ``nextToken`` and
``includeExecutionData`` are ignored, so botocore's paginator never sees a
second page and a client asking for the newest event first gets the oldest.
:func:`install` makes the handler answer as Step Functions does:

* ``reverseOrder`` lists the newest event first;
* ``maxResults`` is the page size: 1 to 1000, 0 or absent means 100; a
  page that is not the last carries a ``nextToken``;
* ``nextToken`` continues where the previous page stopped; a token that is
  not one this execution handed out, or that was issued for the other
  order, is refused with ``InvalidToken``;
* ``includeExecutionData: false`` leaves each event's input and output out.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from typing import Any

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Event fields that carry execution data (what includeExecutionData=false drops).
EXECUTION_DATA_FIELDS = ("input", "inputDetails", "output", "outputDetails")

_installed = False


class HistoryRequestError(ValueError):
    """A GetExecutionHistory parameter Step Functions would refuse;
    ``code`` is the error code it answers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def encode_token(execution_arn: str, offset: int, reverse: bool) -> str:
    document = json.dumps({"executionArn": execution_arn, "offset": offset, "reverseOrder": reverse},
                          separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode("utf-8")).decode("ascii")


def decode_token(token: str, execution_arn: str, reverse: bool) -> int:
    """The offset ``token`` stands for; raises HistoryRequestError when it is
    not a token of this execution's history in this order."""
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        offset = int(document["offset"])
        issued_for, issued_reverse = document["executionArn"], bool(document["reverseOrder"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError):
        raise HistoryRequestError("InvalidToken", f"'{token}' is not a nextToken of "
                                  "GetExecutionHistory") from None
    if issued_for != execution_arn or offset < 0:
        raise HistoryRequestError("InvalidToken", "the nextToken was issued for another execution")
    if issued_reverse != reverse:
        raise HistoryRequestError("InvalidToken", "the nextToken was issued for the other "
                                  "reverseOrder; pass the same reverseOrder as the first call")
    return offset


def page_size(max_results: Any) -> int:
    if max_results in (None, "", 0, "0"):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(max_results)
    except (TypeError, ValueError):
        size = -1
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise HistoryRequestError(
            "ValidationException",
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value between 0 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})")
    return size


def history_page(events: list[dict[str, Any]], execution_arn: str, *, max_results: Any = None,
                 reverse_order: bool = False, next_token: str | None = None,
                 include_execution_data: bool = True) -> dict[str, Any]:
    """One page of ``events`` (oldest first, as recorded), as
    GetExecutionHistory answers it."""
    size = page_size(max_results)
    ordered = list(reversed(events)) if reverse_order else list(events)
    offset = decode_token(next_token, execution_arn, reverse_order) if next_token else 0
    selected = ordered[offset:offset + size]
    if not include_execution_data:
        selected = [_without_execution_data(event) for event in selected]
    answer: dict[str, Any] = {"events": selected}
    if offset + size < len(ordered):
        answer["nextToken"] = encode_token(execution_arn, offset + size, reverse_order)
    return answer


def _without_execution_data(event: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            for field in EXECUTION_DATA_FIELDS:
                value.pop(field, None)
    return event


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _get_execution_history(self: Any) -> Any:
    """StepFunctionResponse.get_execution_history, with paging and order."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.exceptions import InvalidToken, ValidationException

    execution_arn = self._get_param("executionArn")
    history = self.stepfunction_backend.get_execution_history(execution_arn)
    include = self._get_param("includeExecutionData")
    try:
        answer = history_page(
            list(history["events"]), execution_arn, max_results=self._get_param("maxResults"),
            reverse_order=_truthy(self._get_param("reverseOrder")), next_token=self._get_param("nextToken"),
            include_execution_data=include is None or _truthy(include),
        )
    except HistoryRequestError as error:
        if error.code == "InvalidToken":
            raise InvalidToken(str(error)) from None
        raise ValidationException(str(error)) from None
    return ActionResult(answer)


def install() -> None:
    """Patch moto's GetExecutionHistory handler (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.stepfunctions.responses import StepFunctionResponse

    if "get_execution_history" not in StepFunctionResponse.__dict__:
        raise RuntimeError("moto's StepFunctionResponse.get_execution_history is gone: this moto is not the version "
                           "the local cloud was written for (see requirements.txt)")
    StepFunctionResponse.get_execution_history = _get_execution_history  # type: ignore[method-assign]
    _installed = True
