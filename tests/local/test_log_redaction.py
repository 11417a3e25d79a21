"""The local cloud's log never holds a query-string secret: API keys,
presigned-URL signatures and credentials, tokens (local/redaction.py)."""

from __future__ import annotations

import logging

import pytest
import requests

from local.redaction import REDACTED, redact
from tests.local.polling import eventually


@pytest.mark.parametrize(("line", "expected"), [
    ("GET /restapis/a1/dev/_user_request_/items?api_key=s3cr3t 200",
     f"GET /restapis/a1/dev/_user_request_/items?api_key={REDACTED} 200"),
    ("GET /b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=testing%2F20261202&X-Amz-Date=20261202T000000Z"
     "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FwoG&X-Amz-Signature=9f2c 200",
     f"GET /b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={REDACTED}&X-Amz-Date=20261202T000000Z"
     f"&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token={REDACTED}&X-Amz-Signature={REDACTED} 200"),
    ("url http://h/p?page=2&MyApiKey=abc&nextToken=t0k&client_secret=x;sort=asc",
     f"url http://h/p?page=2&MyApiKey={REDACTED}&nextToken={REDACTED}&client_secret={REDACTED};sort=asc"),
    ("encoded /p?api%5Fkey=abc&q=1", f"encoded /p?api%5Fkey={REDACTED}&q=1"),
    ("no query string: key=value and token=abc stay", "no query string: key=value and token=abc stay"),
    ("/p?api_key=&q=1", "/p?api_key=&q=1"),
])
def test_sensitive_query_parameters_are_redacted_and_nothing_else(line, expected):
    assert redact(line) == expected


def test_a_request_line_through_the_running_cloud_is_logged_without_its_api_key(local_cloud, caplog):
    caplog.set_level(logging.INFO)
    url = f"{local_cloud.endpoint_url}/restapis/noapi/dev/_user_request_/items"

    requests.get(url, params={"api_key": "do-not-log-me", "page": "2"}, timeout=30)

    access = eventually(lambda: [r.getMessage() for r in caplog.records if r.name == "local.access"
                                 and "/restapis/noapi/" in r.getMessage()], what="the request line")
    assert access == [f"GET /restapis/noapi/dev/_user_request_/items?api_key={REDACTED}&page=2 404"]
    assert "do-not-log-me" not in caplog.text


def test_a_message_with_arguments_and_an_exception_is_redacted(local_cloud, caplog):
    caplog.set_level(logging.INFO)
    logger = logging.getLogger("local.test-redaction")

    try:
        raise ValueError("fetching https://h/x?X-Amz-Signature=abcdef failed")
    except ValueError:
        logger.exception("calling %s", "https://h/y?token=t0p&q=1")

    [record] = [r for r in caplog.records if r.name == "local.test-redaction"]
    assert record.getMessage() == f"calling https://h/y?token={REDACTED}&q=1"
    assert "abcdef" not in caplog.text
    assert f"X-Amz-Signature={REDACTED}" in caplog.text


@pytest.mark.e2e
def test_the_log_file_of_a_started_cloud_holds_no_api_key(local_cloud_process):
    started = local_cloud_process.run("start")
    assert started.returncode == 0, started.stderr
    requests.get(f"{local_cloud_process.endpoint_url}/restapis/noapi/dev/_user_request_/x?api_key=file-secret",
                 timeout=30)
    stopped = local_cloud_process.run("stop")
    assert stopped.returncode == 0, stopped.stderr

    text = (local_cloud_process.state_dir / "local-cloud.log").read_text()
    assert f"?api_key={REDACTED}" in text
    assert "file-secret" not in text
