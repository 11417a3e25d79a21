"""API Gateway REST APIs answering over HTTP in the local cloud.

moto holds REST APIs but does not serve them. This package routes
``/restapis/<id>/<stage>/_user_request_/<path>`` (and
``/_aws/execute-api/<id>/<stage>/<path>``) to the deployed methods, builds
Lambda proxy events and returns the functions' responses; its
``cloudformation`` module makes CloudFormation import OpenAPI bodies and
create stages. See docs/local-cloud.md, section "API Gateway".
"""
