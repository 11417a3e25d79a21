"""Lambda entry points: thin functions that parse an event, call one service
and shape the answer. A function's handler setting names one of them as
``orchestrator.handlers.<module>.<function>``."""
