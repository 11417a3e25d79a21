"""Running one orchestrator operation: validate, discover, call, show.

Both modes of the orchestrator CLI go through :class:`Runner`: BATCH fills an
:class:`OperationInput` from flags, UI from prompts. Everything the user
typed is validated before the first AWS call; the API then has the last
word, and its refusal is shown as it gave it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

import click

from orchestrator.domain.vocabulary import LifecycleType

from . import payloads, render
from .aws import AwsSession
from .discovery import ApiKeys, Deployment
from .errors import ClientError, ExitCode, UsageError
from .follow import follow
from .git import head_commit
from .http import ApiClient, ApiError, NoAnswer
from .operations import FLAGS, STATUS, Kind, Operation, check_required
from .patch_component import PatchComponent, local_document, prepare

KEY_IN_URL_WARNING = (
    "warning: this link contains the timeline API key. Anyone who sees it (browser history, shared "
    "screens, proxy and access logs) can open every timeline of this deployment; do not share it."
)
TIMELINE_KEY_HINT = (
    "The page needs the timeline API key: save it with --save FILE and open the file, send the key in the "
    "x-api-key header, or use --show-key-in-url for a link that carries the key."
)


@dataclass(frozen=True)
class Options:
    """How to run and show an operation (not part of the request)."""

    output: str = "text"
    wait: bool = False
    timeout: float = 10800.0
    poll_interval: float | None = None  # None: adaptive (follow.poll_delays)
    show_key_in_url: bool = False
    save: Path | None = None
    limit: int | None = None
    next_token: str | None = None


@dataclass(frozen=True)
class PreparedRequest:
    """What will be sent (shown by UI mode before sending). The key is never part of it."""

    method: str
    url: str
    body: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"{self.method} {self.url}{query} (API key in the x-api-key header, not shown)"


Confirm = Callable[[PreparedRequest], bool]


def resolve_commit_ref(op: Operation, given: payloads.OperationInput) -> payloads.OperationInput:
    """New builds and patches default to the commit checked out in the current directory."""
    if op.kind not in (Kind.CREATE, Kind.PATCH) or given.commit_ref:
        return given
    commit = head_commit()
    if commit is None:
        raise UsageError(f"{FLAGS['commit_ref']} is required for --operation {op.name} outside a git checkout")
    return replace(given, commit_ref=commit)


def validate(op: Operation, given: payloads.OperationInput,
             options: Options) -> tuple[payloads.OperationInput, dict[str, Any] | None]:
    """Every local check, before any AWS call.

    Returns the input with its defaults filled in (the commit) and the
    request body (None for GET routes).
    """
    check_required(op, given.values())
    given = resolve_commit_ref(op, given)
    payloads.stack_tag(given.stack_tag or "")
    if "lifecycle_id" in op.required:
        payloads.lifecycle_id(given.lifecycle_id or "")
    if options.wait and not (op.starts_workflow or op.kind is Kind.STATUS):
        raise UsageError(f"--wait follows an event; it does not apply to --operation {op.name}")
    for flag, given_flag, kind in (("--save", options.save is not None, Kind.TIMELINE),
                                   ("--show-key-in-url", options.show_key_in_url, Kind.TIMELINE),
                                   ("--limit", options.limit is not None, Kind.STATUSES),
                                   ("--next-token", options.next_token is not None, Kind.STATUSES)):
        if given_flag and op.kind is not kind:
            raise UsageError(f"{flag} does not apply to --operation {op.name}")
    if op.kind is Kind.PATCH and not (given.patch_component or "").startswith("s3://"):
        local_document(given.patch_component or "")
    return given, payloads.build_body(op, given)


def passing_failure(error: Exception) -> bool:
    """A failure another try may not meet: a gateway or server error, throttling, the network."""
    if isinstance(error, ApiError):
        return error.status >= 500 or error.status == 429
    return isinstance(error, ClientError) and error.exit_code is ExitCode.ENVIRONMENT


class Runner:
    """Executes operations against one deployment (found on first use)."""

    def __init__(self, *, region: str | None, stack_tag: str, echo: Callable[[str], None] = click.echo,
                 progress: Callable[[str], None] | None = None) -> None:
        self._region = region
        self.stack_tag = payloads.stack_tag(stack_tag)
        self._echo = echo
        self._progress = progress or (lambda line: click.echo(line, err=True))
        self._deployment: Deployment | None = None
        self._keys: ApiKeys | None = None
        self._api: ApiClient | None = None

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            aws = AwsSession(self._region)
            aws.require_credentials()
            self._deployment = Deployment(aws, self.stack_tag)
        return self._deployment

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(self.deployment.api_url)
        return self._api

    @property
    def keys(self) -> ApiKeys:
        if self._keys is None:
            self._keys = ApiKeys(self.deployment)
        return self._keys

    def run(self, op: Operation, given: payloads.OperationInput, options: Options,
            confirm: Confirm | None = None) -> int:
        """Validate, send and show ``op``; returns the exit code."""
        given, body = validate(op, given, options)
        lifecycle_id = payloads.lifecycle_id(given.lifecycle_id) if given.lifecycle_id else None
        if op.kind is Kind.STATUSES:
            params = {"stack_tag": self.stack_tag, "limit": options.limit, "next_token": options.next_token}
            request = PreparedRequest(op.method, self.api.url(op.route()),
                                      params={k: v for k, v in params.items() if v is not None})
        else:
            request = PreparedRequest(op.method, self.api.url(op.route(lifecycle_id)), body)
        component: PatchComponent | None = None
        if op.kind is Kind.PATCH and body is not None:
            component = prepare(self.deployment, str(lifecycle_id), given.patch_component or "")
            body["properties"]["patch_component_url"] = component.url
        if confirm is not None and not confirm(request):
            if component is not None and component.uploaded:
                self._progress(component.discard(self.deployment))
            self._echo("not sent")
            return ExitCode.OK
        try:
            answer = self.api.call(op.method, op.route(lifecycle_id), key=self.keys.get(op.key_setting),
                                   body=body, params=request.params)
        except NoAnswer:
            if component is not None and component.uploaded:
                self._progress(f"kept the uploaded patch component {component.url}: the request may still "
                               "have started the patch; check its status before deleting it")
            raise
        except (ClientError, KeyboardInterrupt):
            if component is not None and component.uploaded:
                self._progress(component.discard(self.deployment))
            raise
        return self._show(op, lifecycle_id, answer, options)

    def _show(self, op: Operation, lifecycle_id: str | None, answer: Any, options: Options) -> int:
        """Results on stdout, prose on stderr: text mode prints on stdout only what a script captures."""
        if op.kind is Kind.TIMELINE:
            return self._show_timeline(op, str(lifecycle_id), answer, options)
        document = answer.json()
        if op.kind is Kind.STATUSES:
            self._emit(options, document, render.statuses(document))
            if options.output == "text":
                for line in self._more(document):
                    self._progress(line)
            return ExitCode.OK
        if op.kind is Kind.STATUS:
            if options.wait:
                return self._wait(str(lifecycle_id), options)
            self._emit(options, document, render.status(document))
            return ExitCode.OK
        # A request that started or recorded something: its result is the lifecycle id
        # (``LC=$(api-cli.py ... AMI_CREATE ...)``); what the API accepted goes to stderr.
        lifecycle_id = str(document.get("lifecycle_id") or lifecycle_id)
        if options.output == "text":
            self._echo(lifecycle_id)
            for line in render.accepted(document, f"{op.name} accepted")[1:]:
                self._progress(line)
            self._progress(f"timeline: {self.timeline_url(op.lifecycle_type, lifecycle_id)}")
        elif not options.wait:
            self._echo(render.as_json(document))
        if not options.wait:
            return ExitCode.OK
        return self._wait(lifecycle_id, options, summary_on_stdout=options.output == "json")

    def _wait(self, lifecycle_id: str, options: Options, summary_on_stdout: bool = True) -> int:
        """Follow the lifecycle; its final status goes to stdout (the result of a status read, and
        of a JSON request), or to stderr after a text-mode request whose result was its id."""
        key = self.keys.get(STATUS.key_setting)

        def fetch() -> Mapping[str, Any]:
            return self.api.call("GET", STATUS.route(lifecycle_id), key=key).json()

        outcome = follow(fetch, timeout=options.timeout, interval=options.poll_interval, report=self._progress,
                         transient=passing_failure)
        if summary_on_stdout:
            self._progress(outcome.message)
            self._emit(options, outcome.record, render.status(outcome.record))
        else:
            self._progress("\n".join(render.status(outcome.record)))
            self._progress(outcome.message)
        return outcome.exit_code

    def timeline_url(self, lifecycle_type: LifecycleType, lifecycle_id: str) -> str:
        """The timeline page of one phase (its path starts with the lifecycle type)."""
        return self.api.url(f"/{lifecycle_type}/lifecycles/{lifecycle_id}/timeline")

    def _show_timeline(self, op: Operation, lifecycle_id: str, answer: Any, options: Options) -> int:
        url = self.timeline_url(op.lifecycle_type, lifecycle_id)
        result: dict[str, Any] = {"lifecycle_id": lifecycle_id, "lifecycle_type": str(op.lifecycle_type),
                                  "timeline_url": url, "content_type": answer.content_type}
        notes = [f"timeline ({op.lifecycle_type}) of lifecycle {lifecycle_id}"]
        link = url
        if options.save is not None:
            try:
                options.save.write_text(answer.text, encoding="utf-8")
            except OSError as error:
                raise ClientError(f"--save {options.save}: cannot write the page ({error.strerror})") from None
            result["saved_to"] = str(options.save)
            notes.append(f"saved to {options.save}: open that file in a browser")
        if options.show_key_in_url:
            link = f"{url}?{urlencode({'api_key': self.keys.get(op.key_setting)})}"
            self._progress(KEY_IN_URL_WARNING)
            result["timeline_url_with_key"] = link
            notes.append("ready to open: the link above carries the key")
        elif options.save is None:
            notes.append(TIMELINE_KEY_HINT)
        if options.output == "json":
            self._echo(render.as_json(result))
        else:
            self._echo(link)
            for line in notes:
                self._progress(line)
        return ExitCode.OK

    @staticmethod
    def _more(page: Mapping[str, Any]) -> list[str]:
        token = page.get("next_token")
        return [f"more lifecycles: repeat with --next-token {token}"] if token else []

    def _emit(self, options: Options, document: Any, lines: list[str]) -> None:
        self._echo(render.as_json(document) if options.output == "json" else "\n".join(lines))
