"""One construct per lifecycle event state machine, on one shared base (``base.py``)."""

from stacks.amilifecycle.events.base import EventProps, EventRegistry, LifecycleEvent
from stacks.amilifecycle.events.build import BuildEvent
from stacks.amilifecycle.events.patch import PatchEvent
from stacks.amilifecycle.events.production import ProductionEvent
from stacks.amilifecycle.events.qa_certification import QaCertificationEvent
from stacks.amilifecycle.events.smoke_tests import SmokeTestsEvent
from stacks.amilifecycle.events.test_instances import TestInstances
from stacks.amilifecycle.events.vmdk_export import VmdkExportSteps
from stacks.amilifecycle.events.vulnerability_scans import VulnerabilityScansEvent

__all__ = ["BuildEvent", "EventProps", "EventRegistry", "LifecycleEvent", "PatchEvent", "ProductionEvent",
           "QaCertificationEvent", "SmokeTestsEvent", "TestInstances", "VmdkExportSteps", "VulnerabilityScansEvent"]
