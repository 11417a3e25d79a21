"""EC2 errors with the codes EC2 answers (query protocol, HTTP 400)."""

from __future__ import annotations

from local.services.errors import ServiceError


class EC2Error(ServiceError):
    code = "InvalidParameterValue"
    status = 400


class InvalidParameterValue(EC2Error):
    code = "InvalidParameterValue"


class InvalidParameter(EC2Error):
    code = "InvalidParameter"


class MissingParameter(EC2Error):
    code = "MissingParameter"


class InvalidAMIIDNotFound(EC2Error):
    code = "InvalidAMIID.NotFound"

    def __init__(self, image_id: str) -> None:
        super().__init__(f"The image id '[{image_id}]' does not exist")


class InvalidAMIIDMalformed(EC2Error):
    code = "InvalidAMIID.Malformed"

    def __init__(self, image_id: str) -> None:
        super().__init__(f'Invalid id: "{image_id}" (expecting "ami-...")')


class InvalidExportImageTaskIdNotFound(EC2Error):
    code = "InvalidExportImageTaskId.NotFound"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"The export image task ID '{task_id}' does not exist")


class InvalidExportTaskIdNotFound(EC2Error):
    code = "InvalidExportTaskID.NotFound"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"The export task ID '{task_id}' does not exist")


class IncorrectState(EC2Error):
    code = "IncorrectState"


class InvalidPaginationToken(EC2Error):
    code = "InvalidPaginationToken"

    def __init__(self, token: str) -> None:
        super().__init__(f"The token '{token}' is invalid: pass the NextToken of the previous page.")
