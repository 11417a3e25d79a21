"""The pure domain of the AMI lifecycle orchestrator.

Standard library and ``semver`` only: no AWS SDK, no environment variables, no
clock reads (callers pass ``now``). The command-line clients import the same
modules, so everything here must stay cheap to import. Import from the
modules themselves (``from orchestrator.domain import vocabulary``); this
package re-exports nothing.
"""
