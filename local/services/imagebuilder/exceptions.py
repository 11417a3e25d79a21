"""Image Builder errors, named and coded as the real service names them so
boto3 raises ``ClientError`` with the same ``Error.Code`` a caller on AWS
would handle."""

from __future__ import annotations

from local.services.errors import ServiceError


class ImageBuilderError(ServiceError):
    code = "ServiceException"
    status = 400


class ResourceNotFoundException(ImageBuilderError):
    code = "ResourceNotFoundException"
    status = 404

    def __init__(self, arn: str) -> None:
        super().__init__(f"The resource ARN '{arn}' does not exist.")


class InvalidParameterValueException(ImageBuilderError):
    code = "InvalidParameterValueException"


class InvalidRequestException(ImageBuilderError):
    code = "InvalidRequestException"


class InvalidVersionNumberException(ImageBuilderError):
    code = "InvalidVersionNumberException"


class InvalidPaginationTokenException(ImageBuilderError):
    code = "InvalidPaginationTokenException"


class ResourceAlreadyExistsException(ImageBuilderError):
    code = "ResourceAlreadyExistsException"


class ResourceInUseException(ImageBuilderError):
    code = "ResourceInUseException"


class ResourceDependencyException(ImageBuilderError):
    code = "ResourceDependencyException"


class IdempotentParameterMismatchException(ImageBuilderError):
    code = "IdempotentParameterMismatchException"

    def __init__(self, client_token: str) -> None:
        super().__init__(
            f"The client token '{client_token}' was already used with different parameters; "
            "use a new clientToken for a different request."
        )
