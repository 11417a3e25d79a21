"""A REQUEST authorizer: key "good" is allowed on /items only, "other" on nothing, no key is 401.

Each answer carries a fresh ``invocation`` id in its context, so a caller can tell a cached
answer (the same id again) from a new call.
"""

import uuid


def handler(event, context):
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    key = headers.get("x-key") or (event.get("queryStringParameters") or {}).get("key")
    if not key:
        raise Exception("Unauthorized")
    if key == "broken":
        raise RuntimeError("the key store is unreachable")
    stage_arn = "/".join(event["methodArn"].split("/")[:2])
    effect = "Allow" if key == "good" else "Deny"
    resource = f"{stage_arn}/*/items" if key == "good" else f"{stage_arn}/*/*"
    return {
        "principalId": f"caller-{key}",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
        "context": {"invocation": str(uuid.uuid4()), "type": event["type"], "resource": event["resource"]},
    }
