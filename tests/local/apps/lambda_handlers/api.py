"""A Lambda proxy handler that answers with what API Gateway sent it."""

import json


def handler(event, context):
    if event["path"].endswith("/boom"):
        raise RuntimeError("boom")
    if event["path"].endswith("/malformed"):
        return {"statusCode": 200, "body": {"not": "a string"}}
    seen = {
        "resource": event["resource"],
        "path": event["path"],
        "method": event["httpMethod"],
        "pathParameters": event["pathParameters"],
        "query": event["queryStringParameters"],
        "multiQuery": event["multiValueQueryStringParameters"],
        "body": event["body"],
        "isBase64Encoded": event["isBase64Encoded"],
        "stage": event["requestContext"]["stage"],
        "resourcePath": event["requestContext"]["resourcePath"],
        "testHeader": (event["headers"] or {}).get("X-Test"),
    }
    return {
        "statusCode": 201 if event["httpMethod"] == "POST" else 200,
        "headers": {"Content-Type": "application/json", "X-Handler": "api"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(seen),
        "isBase64Encoded": False,
    }
