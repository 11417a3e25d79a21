"""Scaled time: one knob (LOCAL_CLOUD_TIME_SCALE) compresses every simulated
duration, Step Functions Wait state and retry interval."""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_scale = 1.0


def set_time_scale(scale: float) -> None:
    global _scale
    if scale < 0:
        raise ValueError(f"time scale must be >= 0, got {scale}")
    with _lock:
        _scale = scale


def time_scale() -> float:
    return _scale


def scaled(seconds: float) -> float:
    """Real seconds that stand for ``seconds`` of simulated time."""
    return max(0.0, seconds * _scale)


def sleep(seconds: float) -> None:
    """Sleep for ``seconds`` of simulated time."""
    real = scaled(seconds)
    if real:
        time.sleep(real)
