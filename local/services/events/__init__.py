"""EventBridge beside moto's: moto serves the API and matches the rules;
:mod:`.delivery` hands matching events to Lambda, Step Functions, SNS and
SQS targets, and :func:`.delivery.put_service_event` lets the simulated
services emit the events their AWS counterparts emit."""
