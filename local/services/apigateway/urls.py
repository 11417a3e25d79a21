"""Where deployed REST APIs answer over HTTP in the local cloud.

Two URL forms reach stage ``<stage>`` of API ``<id>``:

* ``<endpoint>/restapis/<id>/<stage>/_user_request_/<path>`` - the
  canonical one (``local_url``), also LocalStack's;
* ``<endpoint>/_aws/execute-api/<id>/<stage>/<path>`` - the form an invoke
  URL *without* a stage maps to, so that "endpoint + '/' + stage + path",
  as clients compose it, still works.

Neither collides with the API Gateway management API moto serves under
``/restapis/<id>/...`` (no management path has ``_user_request_``).
"""

from __future__ import annotations

import re

from werkzeug.wrappers import Request, Response

from local.services.apigateway import responses

# A route path may hold any character a client percent-encodes, line breaks included (re.DOTALL).
_USER_REQUEST = re.compile(r"^/restapis/(?P<api_id>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$", re.DOTALL)
_EXECUTE_API = re.compile(r"^/_aws/execute-api/(?P<api_id>[^/]+)/(?P<stage>[^/]+)(?P<path>/.*)?$", re.DOTALL)
_INVOKE_URL = re.compile(
    r"https://(?P<api_id>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"(?P<rest>/[^\s\"'<>]*)?"
)


def dispatch(request: Request) -> Response | None:
    """Serve ``request`` if it is a call to a deployed API; None otherwise."""
    match = _USER_REQUEST.match(request.path) or _EXECUTE_API.match(request.path)
    if match is None:
        return None
    return responses.serve(request, match.group("api_id"), match.group("stage"), match.group("path") or "/")


def local_url(api_id: str, stage: str, endpoint: str) -> str:
    """The local address of a stage (without a trailing slash: append
    ``/path`` to call a route)."""
    return f"{endpoint.rstrip('/')}/restapis/{api_id}/{stage}/_user_request_"


def rewrite_execute_api_url(value: str, endpoint: str) -> str:
    """Every API Gateway invoke URL in ``value`` pointed at the local cloud:
    ``https://<id>.execute-api.<region>.amazonaws.com/<stage>/<path>``
    becomes ``local_url(...) + '/<path>'``; a URL without a stage becomes
    ``<endpoint>/_aws/execute-api/<id>`` (a stage and path appended to it
    work). Anything else is left alone."""
    def local(match: re.Match[str]) -> str:
        rest = match.group("rest") or ""
        stage, separator, remainder = rest[1:].partition("/")
        if not stage:
            return f"{endpoint.rstrip('/')}/_aws/execute-api/{match.group('api_id')}{rest}"
        return local_url(match.group("api_id"), stage, endpoint) + separator + remainder

    return _INVOKE_URL.sub(local, value)
