"""The shape every simulated service's errors share: the error code the
real service answers with, the HTTP status, and a message for the caller.
Each service derives its own base (``EC2Error``, ``ImageBuilderError``,
...) whose ``code`` and ``status`` are that service's defaults."""

from __future__ import annotations


class ServiceError(Exception):
    code = "InternalFailure"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
