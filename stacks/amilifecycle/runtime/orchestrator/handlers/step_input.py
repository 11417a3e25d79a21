"""Reading a state-machine step's input: what every step handler checks the same way."""

from __future__ import annotations

from typing import Any, Mapping

from ..domain.errors import ValidationError, describe_value


def text(event: Mapping[str, Any], name: str) -> str:
    """``event[name]`` as a non-empty string; a 400-style error naming the field otherwise."""
    value = event.get(name) if isinstance(event, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        state = "missing (required)" if value is None else f"got {describe_value(value)}"
        raise ValidationError(f"{name}: expected a non-empty string, {state}", field=name)
    return value.strip()


def mapping(event: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``event[name]`` when it is an object, else an empty one."""
    value = event.get(name) if isinstance(event, Mapping) else None
    return value if isinstance(value, Mapping) else {}
