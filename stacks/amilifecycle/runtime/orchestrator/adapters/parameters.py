"""Reading one SSM parameter (plain text), e.g. the API's base URL."""

from __future__ import annotations

from typing import Any

from . import aws


def read_parameter(name: str, *, ssm: Any | None = None) -> str:
    """The value of the String parameter ``name``."""
    client = ssm if ssm is not None else aws.client("ssm")
    return str(client.get_parameter(Name=name)["Parameter"]["Value"])
