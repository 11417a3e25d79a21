"""Settings of the local cloud, read once from the environment.

Every value has a default that suits a laptop demo; tests and CI override
them through environment variables before the server starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected a number, got {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name}: expected a number >= 0, got {raw!r}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SystemExit(f"{name}: expected a TCP port from 1 to 65535, got {raw!r}")
    return int(raw)


def _switch(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw not in ("on", "off"):
        raise SystemExit(f"{name}: expected on or off, got {raw!r}")
    return raw == "on"


@dataclass(frozen=True)
class LocalCloudConfig:
    host: str
    port: int
    region: str
    account_id: str
    state_dir: Path
    # Multiplies every simulated duration, Step Functions Wait state and
    # retry interval: 1.0 is real time, 0.01 turns a 3-minute wait into 1.8 s.
    time_scale: float
    # How long a simulated Image Builder build takes at time scale 1.0.
    image_build_seconds: float
    # How long a simulated export / store-image task takes at time scale 1.0.
    export_task_seconds: float
    # Seconds between two periodic saves of the state.
    autosave_seconds: float
    # Whether scheduled EventBridge rules fire by themselves (they always run on request).
    schedules: bool = True

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "local-cloud.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "local-cloud.log"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.pickle"


def load_config() -> LocalCloudConfig:
    return LocalCloudConfig(
        host="127.0.0.1",
        port=_int("LOCAL_CLOUD_PORT", 4566),
        region=os.environ.get("LOCAL_CLOUD_REGION", "us-east-1"),
        account_id="123456789012",
        state_dir=Path(os.environ.get("LOCAL_CLOUD_STATE_DIR", PROJECT_ROOT / ".local-cloud")),
        time_scale=_float("LOCAL_CLOUD_TIME_SCALE", 0.05),
        image_build_seconds=_float("LOCAL_CLOUD_IMAGE_BUILD_SECONDS", 120.0),
        export_task_seconds=_float("LOCAL_CLOUD_EXPORT_TASK_SECONDS", 60.0),
        autosave_seconds=_float("LOCAL_CLOUD_AUTOSAVE_SECONDS", 30.0),
        schedules=_switch("LOCAL_CLOUD_SCHEDULES", True),
    )
