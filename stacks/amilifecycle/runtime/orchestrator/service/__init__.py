"""Use cases of the orchestrator: each one validates with the domain, then
drives the adapters in an order that leaves the lifecycle consistent if a
step fails."""
