"""The orchestrator's OpenAPI 3 document, for the infrastructure code.

The document and its readers live in the Lambda package
(``orchestrator/api/``: the API function registers its routes from the
same file). The gateway definition, the request validation and the client
documentation start from :func:`load_openapi` here, exactly as the stacks
take the vocabulary from the domain (:mod:`stacks.vocabulary`).
"""

from __future__ import annotations

import stacks.vocabulary  # noqa: F401 - puts the Lambda package on sys.path
from orchestrator.api import (API_KEY_EXTENSION, HTTP_METHODS, OPENAPI_PATH, OPERATOR_EXTENSION,  # noqa: E402
                              OpenApiDocumentError, Operation, load_openapi, operations)

__all__ = ["API_KEY_EXTENSION", "HTTP_METHODS", "OPENAPI_PATH", "OPERATOR_EXTENSION", "OpenApiDocumentError",
           "Operation", "load_openapi", "operations"]
