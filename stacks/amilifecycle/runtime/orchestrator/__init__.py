"""The AMI lifecycle orchestrator: the code of every orchestrator Lambda.

``domain`` holds the rules in plain Python; adapters and handlers build on it.
"""
