"""The local cloud's HTTP endpoint: one WSGI application in front of moto.

Every request is offered, in order, to

1. the admin routes under ``/_local/`` (:mod:`local.admin`);
2. each simulated service's ``dispatch`` (``local.services.REGISTRY``);
3. moto's server application, for everything moto supports.

Whatever fails on the way becomes an AWS-style error (:mod:`local.wire`),
and an operation nobody implements answers ``501 NotImplemented`` naming
it, so a client always gets a parseable answer, never a traceback or an
HTML page and never a hang.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from local import admin, clock, persistence, redaction, wire
from local.config import LocalCloudConfig
from local.services import SimulatedService, load_services

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class LocalCloudApp:
    """The WSGI application (see the module docstring for the order)."""

    def __init__(self, moto_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
                 services: list[SimulatedService], admin_context: admin.AdminContext) -> None:
        self.moto_app = moto_app
        self.services = services
        self.admin_context = admin_context

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        _buffer_body(environ)
        request = Request(environ)
        request.get_data(cache=True)  # every layer reads the cached copy
        environ["wsgi.input"].seek(0)
        try:
            if request.path.startswith(admin.PREFIX):
                return admin.handle(request, self.admin_context)(environ, start_response)
            for service in self.services:
                try:
                    response = service.dispatch(request)
                except Exception as error:  # noqa: BLE001 - never a traceback body
                    log.exception("simulated service %s failed", service.name)
                    response = wire.internal_failure(wire.identify(request), f"{type(error).__name__}: {error}")
                if response is not None:
                    return response(environ, start_response)
                environ["wsgi.input"].seek(0)
            return self._moto(request, environ, start_response)
        except Exception as error:  # noqa: BLE001
            log.exception("request %s %s failed", request.method, request.path)
            return wire.internal_failure(wire.identify(request), f"{type(error).__name__}: {error}")(
                environ, start_response)

    def _moto(self, request: Request, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        try:
            body_parts = self.moto_app(environ, capture)
            try:
                body = b"".join(body_parts)
            finally:
                close = getattr(body_parts, "close", None)
                if close:
                    close()
        except NotImplementedError as error:
            aws = wire.identify(request)
            log.warning("moto does not implement %s: %s", aws.label, error)
            return wire.not_supported(aws)(environ, start_response)
        except Exception as error:  # noqa: BLE001 - moto bugs become AWS-style 500s
            aws = wire.identify(request)
            log.exception("moto failed on %s", aws.label)
            return wire.internal_failure(aws, f"{type(error).__name__}: {error}")(environ, start_response)
        status_code = int(captured["status"].split()[0])
        headers = captured["headers"]
        if status_code == 404 and _is_unrouted(request, headers, body):
            return wire.not_supported(wire.identify(request))(environ, start_response)
        start_response(captured["status"], headers)
        return [body]


def _buffer_body(environ: dict[str, Any]) -> None:
    """Read the body once into memory so that every layer can read it."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH")
    if length:
        data = stream.read(int(length)) if stream is not None else b""
    elif environ.get("wsgi.input_terminated") and stream is not None:
        data = stream.read()
    else:
        data = b""
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("wsgi.input_terminated", None)


def _is_unrouted(request: Request, headers: list[tuple[str, str]], body: bytes) -> bool:
    """A 404 that means "no such route" rather than "no such resource":
    Flask's HTML page, or moto's empty answer to a request whose action it
    could not determine (a HEAD's empty 404 is a real "not found")."""
    content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
    if "text/html" in content_type:
        return True
    return not body.strip() and request.method != "HEAD"


def _request_handler() -> type:
    """Request logging through ``logging`` (the log file), not stderr;
    query-string secrets are redacted there (:mod:`local.redaction`)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class Handler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            logging.getLogger("local.access").info('%s %s %s', self.command, self.path, code)

        def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            logging.getLogger("local.access").warning(format, *args)

    return Handler


class LocalCloud:
    """One running local cloud: moto prepared and patched, state restored,
    the HTTP server on its own thread, autosave on another."""

    def __init__(self, config: LocalCloudConfig) -> None:
        self.config = config
        self.services: list[SimulatedService] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._autosave: threading.Thread | None = None
        self._lambda_runtime: Any = None
        self._scheduler: Any = None

    @property
    def endpoint_url(self) -> str:
        return self.config.endpoint_url

    def start(self) -> None:
        """Bind the port (raises OSError if taken), prepare moto, restore
        the saved state, then serve in the background."""
        redaction.install()
        self._server = make_server(self.config.host, self.config.port, self._placeholder, threaded=True,
                                   request_handler=_request_handler())
        self.config = replace(self.config, port=self._server.server_port)
        try:
            self._prepare()
        except BaseException:
            self._server.server_close()
            raise
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        context = admin.AdminContext(config=self.config, services=tuple(s.name for s in self.services),
                                     save=lambda: self.save().to_dict())
        self._server.app = LocalCloudApp(DomainDispatcherApplication(create_backend_app), self.services, context)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-cloud-http", daemon=True)
        self._thread.start()
        if self.config.schedules:
            from local.services.events.schedules import Scheduler

            self._scheduler = Scheduler()
            self._scheduler.start()
        if self.config.autosave_seconds > 0:
            self._autosave = threading.Thread(target=self._autosave_loop, name="local-cloud-autosave", daemon=True)
            self._autosave.start()
        log.info("local cloud serving at %s (region %s, time scale %s)", self.endpoint_url, self.config.region,
                 clock.time_scale())

    def _prepare(self) -> None:
        _prepare_moto(self.config)
        self.services = load_services()
        report = persistence.restore(self.config.state_file, self.services)
        if report:
            log.info("state restored from %s: %d moto backends, services %s; %d running executions and %d "
                     "stack operations marked failed", self.config.state_file, report.backends,
                     ", ".join(report.services) or "none", report.interrupted_executions,
                     report.interrupted_stacks)
        self._lambda_runtime = _install_lambda_runtime(self.config)

    @staticmethod
    def _placeholder(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return Response("starting", status=503)(environ, start_response)

    def save(self) -> persistence.SaveReport:
        report = persistence.save(self.config.state_file, self.services)
        log.info("state saved to %s (%d bytes, %d moto backends)", report.path, report.bytes, report.backends)
        return report

    def _autosave_loop(self) -> None:
        while not self._stopping.wait(self.config.autosave_seconds):
            try:
                self.save()
            except Exception:  # noqa: BLE001 - a failed autosave must not kill the server
                log.exception("autosave failed")

    def stop(self, save: bool = True) -> None:
        """Stop serving, wait briefly for stack operations in flight, save."""
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join(10)
            self._server.server_close()
        if save:
            from local.cloudformation import stacks

            if not stacks.wait_for_operations(timeout=10):
                log.warning("stack operations still running at stop; they will read as failed after restart")
            self.save()
        from local.services.ec2 import instances
        from local.services.inspector2 import scan_events

        instances.shutdown()
        scan_events.stop_all()
        if self._lambda_runtime is not None:
            try:
                self._lambda_runtime.shutdown()
            except Exception:  # noqa: BLE001
                log.exception("Lambda runtime shutdown failed")
        if self._autosave is not None:
            self._autosave.join(5)


def _prepare_moto(config: LocalCloudConfig) -> None:
    """Configure moto as the local cloud needs it, before any backend is used."""
    os.environ["MOTO_PORT"] = str(config.port)
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    default_user_config["iam"] = {"load_aws_managed_policies": True}
    clock.set_time_scale(config.time_scale)
    from local import (
        cloudformation,
        dynamodb_atomic,
        sns_delivery,
        stepfunctions_callbacks,
        stepfunctions_history,
        stepfunctions_logging,
        stepfunctions_time,
    )

    stepfunctions_time.install()
    stepfunctions_callbacks.install()
    stepfunctions_history.install()
    stepfunctions_logging.install()
    dynamodb_atomic.install()
    sns_delivery.install()
    cloudformation.install(config.endpoint_url)
    from local.services.ec2 import instances
    from local.services.events import delivery
    from local.services.inspector2 import scan_events

    instances.install(config)
    delivery.install()
    scan_events.install()


def _install_lambda_runtime(config: LocalCloudConfig) -> Any:
    """The Lambda runtime runs deployed handlers; optional so the rest of
    the local cloud works while it is absent from the tree."""
    import importlib.util

    if importlib.util.find_spec("local.lambda_runtime") is None:
        log.warning("local.lambda_runtime is not in this tree: Lambda invocations fail as in moto without Docker")
        return None
    import local.lambda_runtime as runtime

    if not hasattr(runtime, "install"):
        log.warning("local.lambda_runtime has no install() yet: Lambda invocations fail as in moto without Docker")
        return None
    runtime.install(config)
    return runtime
