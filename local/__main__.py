"""``python -m local``: run and drive the local cloud.

    start | stop | status          the background server
    deploy [--cdk-out DIR]         deploy the synthesized app into it
    destroy [--cdk-out DIR]        delete the deployed stacks
    fault set|clear|list           inject failures into simulated services
    time-scale [SCALE]             read or change the time scale
    save                           write the state file now
    events rules|run-rule NAME     list scheduled rules / fire one now
    env                            shell exports that point AWS clients and
                                   these commands at this local cloud

Settings come from the environment (docs/local-cloud.md): LOCAL_CLOUD_PORT,
LOCAL_CLOUD_REGION, LOCAL_CLOUD_STATE_DIR, LOCAL_CLOUD_TIME_SCALE, ...
Every failure is one line on stderr and a non-zero exit code. Any Python
may start these commands: one without the project's pinned packages hands
over to .venv/bin/python (local/interpreter.py).
"""

from __future__ import annotations

if __name__ == "__main__":
    from local.interpreter import ensure_project_python

    ensure_project_python()

import json  # noqa: E402 - after the interpreter check, which must run first
import shlex  # noqa: E402
import sys  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402

from local import process  # noqa: E402
from local.config import PROJECT_ROOT, LocalCloudConfig, load_config  # noqa: E402

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


@cli.command(help="Say whether the local cloud runs and answers (exit 0) or not (exit 3).")
def status() -> None:
    config = _config()
    current = process.status(config)
    click.echo(current.describe())
    if not current.running:
        sys.exit(EXIT_NOT_RUNNING)
    document = process.health(config)
    if document is None:
        click.echo(f"  but nothing answers at {config.endpoint_url}: if it was started on another port, "
                   "source its local-cloud.env (or set LOCAL_CLOUD_PORT to that port)")
        sys.exit(EXIT_NOT_RUNNING)
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


def _describe_fault(item: dict[str, Any]) -> str:
    text = f"{item['service']} {item['kind']} operation={item['operation']}"
    if item["kind"] == "delay":
        text += f" seconds={item['seconds']:g}"
    if item["kind"] in ("fail", "build-fail"):
        text += f" message={item['message']!r}"
    text += " until cleared" if item.get("count") is None else f" for {item['count']} more use(s)"
    return text


@fault.command("set", help="Set a fault. SERVICE: imagebuilder|ec2|inspector2|apigateway. KIND: fail|delay|hang "
                           "(the call, or the work it starts), or a service's own: build-fail (imagebuilder: the "
                           "next builds end FAILED as Image Builder reports a failed build), instance-no-callback, "
                           "smoke-test-fail (ec2: launched instances never run their user data / boot "
                           "non-compliant). See docs/local-cloud.md.")
@click.argument("service")
@click.argument("kind")
@click.option("--operation", default="*", show_default=True, help="Only this operation (e.g. ExportImage).")
@click.option("--seconds", type=float, default=0.0, help="For delay: how long (simulated seconds).")
@click.option("--message", default=None, help="For fail/build-fail: the error message (the cause in the reason).")
@click.option("--count", type=click.IntRange(min=1), default=None,
              help="Apply to the next N calls or builds only, then clear itself (default: until cleared).")
def fault_set(service: str, kind: str, operation: str, seconds: float, message: str | None,
              count: int | None) -> None:
    config = _config()
    body: dict[str, Any] = {"service": service, "kind": kind, "operation": operation, "seconds": seconds,
                            "count": count}
    if message is not None:
        body["message"] = message
    result = _admin(config, "POST", "faults", body)
    click.echo(f"fault set: {_describe_fault(result)}")


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
        click.echo(_describe_fault(item))


@cli.command("time-scale", help="Show the time scale, or set it to SCALE (1 = real time, 0.01 = 100x faster).")
@click.argument("scale", type=float, required=False)
def time_scale(scale: float | None) -> None:
    config = _config()
    result = _admin(config, "POST", "time-scale", {"scale": scale}) if scale is not None else \
        _admin(config, "GET", "time-scale")
    click.echo(f"time scale {result['scale']:g}")


@cli.group(help="Scheduled EventBridge rules of the running local cloud.")
def events() -> None:
    pass


@events.command("rules", help="List the rules with a schedule.")
def events_rules() -> None:
    rules = _admin(_config(), "GET", "events/rules")["rules"]
    if not rules:
        click.echo("no scheduled rules")
    for rule in rules:
        click.echo(f"{rule['rule']}  {rule['schedule']}  {rule['state']}")


@events.command("run-rule", help="Deliver the scheduled event of rule NAME (its name or ARN) to its targets now.")
@click.argument("name")
def events_run_rule(name: str) -> None:
    from urllib.parse import quote

    result = _admin(_config(), "POST", f"events/rules/{quote(name, safe='')}/run")
    click.echo(f"rule {result['rule']} ({result['schedule']}) fired: {result['targets']} target(s) reached")


@cli.command(help="Write the state file now (it is also written on stop and every autosave period).")
def save() -> None:
    result = _admin(_config(), "POST", "save")
    click.echo(f"state saved to {result['saved']} ({result['bytes']} bytes)")


@cli.command(help="Print shell exports that point AWS SDKs and CLIs, and these commands, at the local cloud.")
@click.option("--stack-tag", help="Also record the stack tag deployed into it (LOCAL_CLOUD_STACK_TAG), the "
                                  "clients' default.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also record where these exports are kept (LOCAL_CLOUD_ENV_FILE), for destroy.sh --local.")
def env(stack_tag: str | None, env_file: Path | None) -> None:
    config = _config()
    exports: list[tuple[str, str]] = [
        ("AWS_ENDPOINT_URL", config.endpoint_url), ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", config.region), ("AWS_REGION", config.region),
        # What python -m local, deploy.sh and destroy.sh need to find this cloud again (and restart it alike).
        ("LOCAL_CLOUD_PORT", str(config.port)), ("LOCAL_CLOUD_STATE_DIR", str(config.state_dir.resolve())),
        ("LOCAL_CLOUD_REGION", config.region), ("LOCAL_CLOUD_TIME_SCALE", f"{config.time_scale:g}"),
        ("LOCAL_CLOUD_IMAGE_BUILD_SECONDS", f"{config.image_build_seconds:g}"),
        ("LOCAL_CLOUD_EXPORT_TASK_SECONDS", f"{config.export_task_seconds:g}"),
        ("LOCAL_CLOUD_AUTOSAVE_SECONDS", f"{config.autosave_seconds:g}"),
        ("LOCAL_CLOUD_SCHEDULES", "on" if config.schedules else "off"),
    ]
    if env_file is not None:
        exports.append(("LOCAL_CLOUD_ENV_FILE", str(env_file.resolve())))
    if stack_tag:
        exports.append(("LOCAL_CLOUD_STACK_TAG", stack_tag))
    for name, value in exports:
        click.echo(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    cli(prog_name="python -m local")
