"""No API key ever leaves the function: not in a response body, not in a log line."""

from __future__ import annotations

import logging

from .conftest import STACK_TAG, api_event, call, create_body

UNKNOWN_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"


def test_keys_appear_in_no_response_and_no_log_line_across_a_journey(api, cloud, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    keys = cloud.keys
    bodies, statuses = [], []

    def remember(answer):
        bodies.append(answer.text)
        statuses.append(answer.status)
        return answer

    created = remember(call(api, api_event("POST", "/ami-creation/lifecycles",
                                           body=create_body(api_key=keys["ami_creation_post_secret_name"]))))
    lifecycle_id = created.json["lifecycle_id"]
    status_key = keys["ami_creation_status_secret_name"]
    remember(call(api, api_event("GET", "/ami-creation/lifecycles/{lifecycle-id}/status",
                                 path_parameters={"lifecycle-id": lifecycle_id}, query={"api_key": status_key})))
    remember(call(api, api_event("GET", "/ami-patch/lifecycles/{lifecycle-id}/status",
                                 path_parameters={"lifecycle-id": UNKNOWN_ID}, headers={"x-api-key": status_key})))
    remember(call(api, api_event("GET", "/ami-creation/lifecycles/status",
                                 query={"stack_tag": STACK_TAG, "api_key": status_key})))
    remember(call(api, api_event("GET", "/ami-creation/lifecycles/{lifecycle-id}/timeline",
                                 path_parameters={"lifecycle-id": lifecycle_id},
                                 query={"api_key": keys["ami_creation_timeline_secret_name"]})))
    remember(call(api, api_event("PUT", "/ami-creation/lifecycles",
                                 body={"api_key": keys["ami_creation_put_secret_name"], "stack_tag": STACK_TAG})))
    remember(call(api, api_event("GET", "/ami-creation/lifecycles/{lifecycle-id}/status",
                                 path_parameters={"lifecycle-id": lifecycle_id},
                                 headers={"x-api-key": keys["ami_creation_post_secret_name"]})))
    remember(call(api, api_event("POST", "/ami-creation/lifecycles",
                                 body=create_body(owner="", api_key=keys["ami_creation_post_secret_name"]))))

    assert statuses == [200, 200, 404, 200, 200, 400, 403, 400]
    captured = capsys.readouterr()
    logged = captured.out + captured.err + "\n".join(record.getMessage() for record in caplog.records)
    assert "request handled" in logged  # the function did log every request
    for value in keys.values():
        assert all(value not in body for body in bodies)
        assert value not in logged
