"""``python -m local``: run and drive the local cloud.

    start | stop | status          the background server
    deploy [--cdk-out DIR]         deploy the synthesized app into it
    destroy [--cdk-out DIR]        delete the deployed stacks
    fault set|clear|list           inject failures into simulated services
    time-scale [SCALE]             read or change the time scale
    save                           write the state file now
    env                            shell exports that point AWS clients here

Settings come from the environment (docs/local-cloud.md): LOCAL_CLOUD_PORT,
LOCAL_CLOUD_REGION, LOCAL_CLOUD_STATE_DIR, LOCAL_CLOUD_TIME_SCALE, ...
Every failure is one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from local import process
from local.config import PROJECT_ROOT, LocalCloudConfig, load_config

EXIT_NOT_RUNNING = 3


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _config() -> LocalCloudConfig:
    return load_config()


def _require_running(config: LocalCloudConfig) -> None:
    if process.read_pid(config) is None and process.health(config) is None:
        _fail(f"local cloud is not running at {config.endpoint_url}: start it with: python -m local start",
              EXIT_NOT_RUNNING)


def _admin(config: LocalCloudConfig, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{config.endpoint_url}/_local/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("error", str(error))
        except ValueError:
            message = str(error)
        _fail(message)
    except (urllib.error.URLError, OSError) as error:
        _fail(f"cannot reach the local cloud at {config.endpoint_url}: {error}", EXIT_NOT_RUNNING)


@click.group(help=__doc__.split("\n\n")[0])
def cli() -> None:
    pass


@cli.command(help="Start the local cloud in the background and wait until it answers.")
def start() -> None:
    config = _config()
    try:
        status = process.start(config)
    except process.LocalCloudError as error:
        _fail(str(error))
    click.echo(f"local cloud running (pid {status.pid}) at {status.endpoint_url}")
    click.echo(f"  state: {config.state_dir}  log: {config.log_file}")


@cli.command(help="Stop the local cloud, saving its state.")
def stop() -> None:
    try:
        click.echo(process.stop(_config()))
    except process.LocalCloudError as error:
        _fail(str(error))


@cli.command(help="Say whether the local cloud runs (exit 0) or not (exit 3).")
def status() -> None:
    config = _config()
    current = process.status(config)
    click.echo(current.describe())
    if not current.running:
        sys.exit(EXIT_NOT_RUNNING)
    document = process.health(config)
    if document:
        click.echo(f"  region {document['region']}, time scale {document['time_scale']}, simulated: "
                   f"{', '.join(document['simulated_services']) or 'none'}, faults: {len(document['faults'])}")


@cli.command(hidden=True, help="Run the server in the foreground (what start runs in the background).")
def serve() -> None:
    sys.exit(process.serve(_config()))


def _deployer(config: LocalCloudConfig, timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    from local.deployer import Deployer

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=config.region)
    client_config = Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=300)
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service, endpoint_url=config.endpoint_url, config=client_config)
        return clients[service]

    return Deployer(client, account=config.account_id, region=config.region, echo=click.echo, timeout=timeout)


_cdk_out_option = click.option("--cdk-out", type=click.Path(path_type=Path), default=PROJECT_ROOT / "cdk.out",
                               show_default=True, help="The synthesized cloud assembly.")


@cli.command(help="Deploy the stacks of a synthesized CDK app (all, or the named ones and their dependencies).")
@_cdk_out_option
@click.option("--outputs-file", type=click.Path(path_type=Path), help="Write the stacks' outputs as JSON here.")
@click.option("--timeout", type=float, default=900.0, show_default=True, help="Seconds to wait for each stack.")
@click.argument("stacks", nargs=-1)
def deploy(cdk_out: Path, outputs_file: Path | None, timeout: float, stacks: tuple[str, ...]) -> None:
    from local import deployer

    config = _config()
    _require_running(config)
    try:
        assembly = deployer.load_assembly(cdk_out)
        results = deployer.deploy(assembly, _deployer(config, timeout), stacks)
    except deployer.DeployError as error:
        _fail(str(error))
    outputs = {result.stack_name: result.outputs for result in results}
    for stack_name, values in outputs.items():
        for key, value in sorted(values.items()):
            click.echo(f"{stack_name}.{key} = {value}")
    if outputs_file:
        outputs_file.write_text(json.dumps(outputs, indent=2) + "\n")
    click.echo(f"deployed {len(results)} stack(s) into {config.endpoint_url}")


@cli.command(help="Delete the deployed stacks (all, or the named ones), dependents first.")
@_cdk_out_option
@click.option("--timeout", type=float, default=900.0, show_default=True, help="Seconds to wait for each stack.")
@click.argument("stacks", nargs=-1)
def destroy(cdk_out: Path, timeout: float, stacks: tuple[str, ...]) -> None:
    from local import deployer

    config = _config()
    _require_running(config)
    try:
        deleted = deployer.destroy(deployer.load_assembly(cdk_out), _deployer(config, timeout), stacks)
    except deployer.DeployError as error:
        _fail(str(error))
    click.echo(f"deleted {len(deleted)} stack(s)" + (f": {', '.join(deleted)}" if deleted else ""))


@cli.group(help="Inject failures into the simulated services of the running local cloud.")
def fault() -> None:
    pass


@fault.command("set", help="Set a fault: SERVICE is imagebuilder|ec2|inspector2|apigateway, KIND fail|delay|hang "
                            "(ec2 also instance-no-callback|smoke-test-fail).")
@click.argument("service")
@click.argument("kind")
@click.option("--operation", default="*", show_default=True, help="Only this operation (e.g. ExportImage).")
@click.option("--seconds", type=float, default=0.0, help="For delay: how long (simulated seconds).")
@click.option("--message", default="Injected fault", show_default=True, help="For fail: the error message.")
def fault_set(service: str, kind: str, operation: str, seconds: float, message: str) -> None:
    config = _config()
    result = _admin(config, "POST", "faults", {"service": service, "kind": kind, "operation": operation,
                                                "seconds": seconds, "message": message})
    click.echo(f"fault set: {result['service']} {result['kind']} operation={result['operation']}"
               + (f" seconds={result['seconds']:g}" if result["kind"] == "delay" else ""))


@fault.command("clear", help="Clear every fault, or those of one SERVICE.")
@click.argument("service", required=False)
def fault_clear(service: str | None) -> None:
    config = _config()
    result = _admin(config, "DELETE", f"faults/{service}" if service else "faults")
    click.echo(f"faults cleared ({len(result['faults'])} left)")


@fault.command("list", help="List the faults in force.")
def fault_list() -> None:
    faults = _admin(_config(), "GET", "faults")["faults"]
    if not faults:
        click.echo("no faults")
    for item in faults:
        click.echo(f"{item['service']} {item['kind']} operation={item['operation']} seconds={item['seconds']:g} "
                   f"message={item['message']!r}")


@cli.command("time-scale", help="Show the time scale, or set it to SCALE (1 = real time, 0.01 = 100x faster).")
@click.argument("scale", type=float, required=False)
def time_scale(scale: float | None) -> None:
    config = _config()
    result = _admin(config, "POST", "time-scale", {"scale": scale}) if scale is not None else \
        _admin(config, "GET", "time-scale")
    click.echo(f"time scale {result['scale']:g}")


@cli.command(help="Write the state file now (it is also written on stop and every autosave period).")
def save() -> None:
    result = _admin(_config(), "POST", "save")
    click.echo(f"state saved to {result['saved']} ({result['bytes']} bytes)")


@cli.command(help="Print shell exports that point AWS SDKs and CLIs at the local cloud.")
def env() -> None:
    config = _config()
    for name, value in (("AWS_ENDPOINT_URL", config.endpoint_url), ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", config.region),
                        ("AWS_REGION", config.region)):
        click.echo(f"export {name}={value}")


if __name__ == "__main__":
    cli(prog_name="python -m local")
