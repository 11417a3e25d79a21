"""Returns what it received and what Lambda gave it; raises, sleeps or exits
when the event asks, so tests can watch each outcome."""

import json
import os
import sys
import time


def handler(event, context):
    if "raise" in event:
        raise ValueError(event["raise"])
    if "sleep" in event:
        time.sleep(float(event["sleep"]))
    if "exit" in event:
        sys.exit(int(event["exit"]))
    print(f"echo received {json.dumps(event, sort_keys=True)}")
    return {
        "event": event,
        "greeting": os.environ.get("GREETING"),
        "table_name": os.environ.get("TABLE_NAME"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "cwd": os.getcwd(),
    }
