"""The local cloud: the whole system on one machine, no AWS account needed.

See docs/local-cloud.md. ``python -m local start|stop|status|fault``.
"""
