"""Inspector2 errors as the service names them (rest-json)."""

from __future__ import annotations

from typing import Any

from local.services.errors import ServiceError


class Inspector2Error(ServiceError):
    code = "InternalServerException"
    status = 500

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


class ValidationException(Inspector2Error):
    code = "ValidationException"
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "reason": "FIELD_VALIDATION_FAILED"}
        if self.field:
            body["fields"] = [{"name": self.field, "message": self.message}]
        return body


class ResourceNotFoundException(Inspector2Error):
    code = "ResourceNotFoundException"
    status = 404
