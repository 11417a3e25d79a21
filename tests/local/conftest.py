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
import sys
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
    """One synthesis in a process of its own, started as soon as collection
    shows a test needs it, so that it runs while earlier tests do (a
    synthesis takes ~10 s)."""

    def __init__(self, fixture: str, command: list[str]) -> None:
        self.fixture = fixture
        self.command = command
        self.process: Any = None
        self.out: Path | None = None

    def start(self, out: Path) -> None:
        import subprocess

        if self.process is not None:
            return
        self.out = out
        environment = {**os.environ, "CDK_OUTDIR": str(out), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                       "PYTHONDONTWRITEBYTECODE": "1"}
        command = [part.replace("{out}", str(out)) for part in self.command]
        self.process = subprocess.Popen(command, env=environment, cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)

    def result(self) -> Path:
        stdout, stderr = self.process.communicate(timeout=240)
        assert self.process.returncode == 0, stderr[-3000:]
        assert self.out is not None
        return self.out

    def abandon(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        if self.out is not None:
            import shutil

            shutil.rmtree(self.out, ignore_errors=True)


ROOT = Path(__file__).parents[2]
_C1_SYNTH = _Synth("c1_cloud_assembly", [sys.executable, str(C1_APP)])
# The product itself, synthesized by the CDK CLI as deploy.sh --local does
# (the CLI hands app.py cdk.json's context, feature flags included).
_PRODUCT_SYNTH = _Synth("product_cloud_assembly",
                        [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--output", "{out}"])
_SYNTHS = (_C1_SYNTH, _PRODUCT_SYNTH)
_DEPENDENTS = {"c1_cloud_assembly": ("c1_cloud_assembly", "c1_deployment"),
               "product_cloud_assembly": ("product_cloud_assembly", "product_deployment")}


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    import tempfile

    for synth in _SYNTHS:
        names = _DEPENDENTS[synth.fixture]
        if any(name in getattr(item, "fixturenames", ()) for item in items for name in names):
            synth.start(Path(tempfile.mkdtemp(prefix=f"{synth.fixture}-")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for synth in _SYNTHS:
        synth.abandon()


@pytest.fixture(scope="session")
def c1_cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/local/apps/c1_cross_stack_app.py synthesized by its own process."""
    if _C1_SYNTH.process is None:
        _C1_SYNTH.start(tmp_path_factory.mktemp("c1-cdk.out"))
    return _C1_SYNTH.result()


@pytest.fixture(scope="session")
def c1_deployment(local_cloud: RunningLocalCloud, c1_cloud_assembly: Path) -> dict[str, dict[str, str]]:
    """The C1 test app deployed through the deployer: stack name -> outputs."""
    from local import deployer

    results = deployer.deploy(deployer.load_assembly(c1_cloud_assembly), local_deployer(local_cloud))
    return {result.stack_name: result.outputs for result in results}


@pytest.fixture(scope="session")
def product_cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The product's five stacks, as ``cdk synth`` writes them to cdk.out."""
    if _PRODUCT_SYNTH.process is None:
        _PRODUCT_SYNTH.start(tmp_path_factory.mktemp("product-cdk.out"))
    return _PRODUCT_SYNTH.result()


@pytest.fixture(scope="session")
def product_deployment(local_cloud: RunningLocalCloud, product_cloud_assembly: Path) -> dict[str, dict[str, str]]:
    """The product deployed as ``deploy.sh --local`` deploys it: stack name
    -> outputs."""
    from local import deployer

    results = deployer.deploy(deployer.load_assembly(product_cloud_assembly),
                              local_deployer(local_cloud, timeout=300))
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
