"""The services moto lacks, simulated beside it.

Each package ``local/services/<name>/`` follows moto's layout:
``models.py`` (state and behaviour, with ``get_state``/``set_state``/
``reset`` for persistence and tests), ``responses.py`` (wire format) and
``urls.py`` with ``dispatch(request) -> Response | None`` (None: not mine).
An optional ``cloudformation.py`` holds CloudFormation resource types.

The server offers every request to these services in REGISTRY order before
moto sees it.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from werkzeug.wrappers import Request, Response

REGISTRY: tuple[str, ...] = ("imagebuilder", "ec2", "inspector2", "apigateway")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulatedService:
    name: str
    dispatch: Callable[[Request], Response | None]
    get_state: Callable[[], Any]
    set_state: Callable[[Any], None]
    reset: Callable[[], None]


def _optional_module(qualified: str) -> ModuleType | None:
    """Import ``qualified`` if the file exists. A module that exists but
    fails to import raises: a broken service must not pass for an absent one."""
    if importlib.util.find_spec(qualified) is None:
        return None
    return importlib.import_module(qualified)


def _package_present(name: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{name}") is not None


def load_services() -> list[SimulatedService]:
    """The simulated services present in this tree, in dispatch order."""
    services = []
    for name in REGISTRY:
        if not _package_present(name):
            log.warning("simulated service %s is not installed in this tree; moto answers its calls", name)
            continue
        urls = _optional_module(f"{__name__}.{name}.urls")
        models = _optional_module(f"{__name__}.{name}.models")
        if urls is None or models is None:
            log.warning("simulated service %s has no urls.py/models.py yet; skipped", name)
            continue
        services.append(
            SimulatedService(
                name=name,
                dispatch=urls.dispatch,
                get_state=models.get_state,
                set_state=models.set_state,
                reset=models.reset,
            )
        )
    return services


def load_cloudformation_types() -> list[str]:
    """Import every ``local/services/<name>/cloudformation.py`` so that its
    CloudFormationModel subclasses join moto's type map; returns the names
    of the modules imported."""
    loaded = []
    for name in REGISTRY:
        if not _package_present(name):
            continue
        if _optional_module(f"{__name__}.{name}.cloudformation") is not None:
            loaded.append(name)
    return loaded
