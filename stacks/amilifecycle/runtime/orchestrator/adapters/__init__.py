"""Small wrappers around the AWS services the orchestrator uses.

Each module owns one service and speaks the domain's language on its side
(records, notification messages, execution names); boto3 clients come from
:mod:`orchestrator.adapters.aws`, so endpoints, retries and timeouts are
configured once.
"""
