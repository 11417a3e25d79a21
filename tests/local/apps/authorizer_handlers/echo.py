"""A proxy integration that answers with the authorizer context API Gateway passed on."""

import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"authorizer": event["requestContext"].get("authorizer"), "body": event["body"]})}
