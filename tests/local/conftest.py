"""Shared fixtures for the local cloud's tests.

``local_cloud`` runs the real server (the same WSGI application, moto,
simulated services, Lambda runtime and CloudFormation extensions as
``python -m local start``) in a background thread of the test process, on
a free port, with its state in a temporary folder: fast to start once per
session. Tests that need a separate process (start/stop, SIGTERM, restart)
spawn the CLI themselves and are marked ``e2e``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")

TEST_TIME_SCALE = 0.01


@dataclass(frozen=True)
class RunningLocalCloud:
    endpoint_url: str
    region: str
    account_id: str
    state_dir: Path

    def client_kwargs(self) -> dict[str, Any]:
        from botocore.config import Config

        return {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=120),
        }

    def boto3_client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, **self.client_kwargs())

    def boto3_resource(self, service: str) -> Any:
        import boto3

        return boto3.resource(service, **self.client_kwargs())


@pytest.fixture(scope="session")
def local_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalCloud]:
    """The local cloud, serving in this process for the whole session."""
    from local.config import load_config
    from local.server import LocalCloud

    state_dir = tmp_path_factory.mktemp("local-cloud-state")
    config = replace(load_config(), port=0, state_dir=state_dir, time_scale=TEST_TIME_SCALE,
                     autosave_seconds=0)
    cloud = LocalCloud(config)
    cloud.start()
    try:
        yield RunningLocalCloud(endpoint_url=cloud.endpoint_url, region=cloud.config.region,
                                account_id=cloud.config.account_id, state_dir=state_dir)
    finally:
        cloud.stop(save=False)


@pytest.fixture
def local_cloud_env(local_cloud: RunningLocalCloud, monkeypatch: pytest.MonkeyPatch) -> RunningLocalCloud:
    """Point every boto3 client created during the test at the local cloud,
    the way deploy.sh --local points the CLIs at it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_cloud.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_cloud.region)
    monkeypatch.setenv("AWS_REGION", local_cloud.region)
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    return local_cloud


@pytest.fixture(autouse=True)
def _no_faults_left_behind() -> Iterator[None]:
    """A fault injected by one test never leaks into the next."""
    yield
    from local import faults

    faults.clear()


# --- the C1 test app: synthesized once, deployed once --------------------

C1_APP = Path(__file__).parent / "apps" / "c1_cross_stack_app.py"


def local_deployer(cloud: RunningLocalCloud, echo: Any = lambda message: None, timeout: float = 120.0) -> Any:
    """A Deployer bound to ``cloud`` (what ``python -m local deploy`` builds)."""
    from local.deployer import Deployer

    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = cloud.boto3_client(service)
        return clients[service]

    return Deployer(client, account=cloud.account_id, region=cloud.region, echo=echo, timeout=timeout)


class _Synth:
    """The C1 app's synthesis, started as soon as collection shows a test
    needs it, so that it runs while earlier tests do (it takes ~10 s)."""

    process: Any = None
    out: Path | None = None

    @classmethod
    def start(cls, out: Path) -> None:
        import subprocess
        import sys

        if cls.process is not None:
            return
        cls.out = out
        environment = {**os.environ, "CDK_OUTDIR": str(out), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                       "PYTHONDONTWRITEBYTECODE": "1"}
        cls.process = subprocess.Popen([sys.executable, str(C1_APP)], env=environment, cwd=Path(__file__).parents[2],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @classmethod
    def result(cls) -> Path:
        stdout, stderr = cls.process.communicate(timeout=180)
        assert cls.process.returncode == 0, stderr[-3000:]
        return cls.out

    @classmethod
    def abandon(cls) -> None:
        if cls.process is not None and cls.process.poll() is None:
            cls.process.kill()
            cls.process.communicate()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    if any("c1_cloud_assembly" in getattr(item, "fixturenames", ()) for item in items):
        import tempfile

        _Synth.start(Path(tempfile.mkdtemp(prefix="c1-cdk.out-")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _Synth.abandon()
    if _Synth.out is not None:
        import shutil

        shutil.rmtree(_Synth.out, ignore_errors=True)


@pytest.fixture(scope="session")
def c1_cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/local/apps/c1_cross_stack_app.py synthesized by its own process."""
    if _Synth.process is None:
        _Synth.start(tmp_path_factory.mktemp("c1-cdk.out"))
    return _Synth.result()


@pytest.fixture(scope="session")
def c1_deployment(local_cloud: RunningLocalCloud, c1_cloud_assembly: Path) -> dict[str, dict[str, str]]:
    """The C1 test app deployed through the deployer: stack name -> outputs."""
    from local import deployer

    results = deployer.deploy(deployer.load_assembly(c1_cloud_assembly), local_deployer(local_cloud))
    return {result.stack_name: result.outputs for result in results}


# --- the real CLI in a subprocess (tests marked e2e) ----------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalCloudProcess:
    """How to reach a local cloud run by ``python -m local`` in a subprocess."""

    port: int
    state_dir: Path
    autosave_seconds: float = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "LOCAL_CLOUD_PORT": str(self.port), "LOCAL_CLOUD_STATE_DIR": str(self.state_dir),
                "LOCAL_CLOUD_TIME_SCALE": str(TEST_TIME_SCALE),
                "LOCAL_CLOUD_AUTOSAVE_SECONDS": str(self.autosave_seconds)}

    def run(self, *arguments: str, timeout: float = 120.0) -> Any:
        import subprocess
        import sys

        return subprocess.run([sys.executable, "-m", "local", *arguments], env=self.env, capture_output=True,
                              text=True, timeout=timeout, cwd=Path(__file__).parents[2])

    def client(self, service: str) -> Any:
        cloud = RunningLocalCloud(endpoint_url=self.endpoint_url, region="us-east-1", account_id="123456789012",
                                  state_dir=self.state_dir)
        return cloud.boto3_client(service)

    def pid(self) -> int | None:
        pid_file = self.state_dir / "local-cloud.pid"
        return int(pid_file.read_text()) if pid_file.exists() else None


@pytest.fixture
def local_cloud_process(tmp_path: Path) -> Iterator[LocalCloudProcess]:
    """A free port and an empty state folder for one CLI-driven local cloud;
    whatever still runs at the end is stopped."""
    cloud = LocalCloudProcess(port=free_port(), state_dir=tmp_path / "state")
    yield cloud
    if cloud.pid() is not None:
        cloud.run("stop")
