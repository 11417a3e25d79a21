"""Turning view models and notification messages into HTML pages and email bodies.

The domain decides *what* a timeline page or a notification says
(:mod:`orchestrator.domain.timeline`, :mod:`orchestrator.domain.notifications`);
this module only lays it out with the Jinja2 templates in ``templates/``.

Two rules keep user data harmless:

* HTML templates (``*.html.j2``) are autoescaped and never mark user data
  ``|safe``: a product name or an event property is always text, never markup.
  The page loads nothing from elsewhere and its Content-Security-Policy says so.
* Plain-text templates (``*.txt.j2``) are not autoescaped (HTML entities would
  only garble an email), but every value goes through :func:`plain_text`:
  control characters are removed and multi-line values are indented under
  their label, so a value cannot pose as a line of the message. Data is
  redacted once more before rendering, so no key or key-bearing URL reaches
  an inbox even if a producer forgot to redact.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .domain.notifications import NotificationKind, NotificationMessage
from .domain.redaction import redact
from .domain.timeline import SemverStanding, TimelineView
from .domain.timestamps import FORMAT as TIMESTAMP_FORMAT, iso_utc
from .domain.vocabulary import Status, TimelineStatus

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

DEFAULT_REFRESH_SECONDS = 20
MIN_REFRESH_SECONDS = 5
MAX_REFRESH_SECONDS = 3600

TIMELINE_TEMPLATE = "timeline.html.j2"
QA_REQUEST_TEMPLATE = "qa_certification_request.txt.j2"
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                           "base-uri 'none'; form-action 'none'")
# HTTP headers for a response carrying a rendered page. The page repeats the policy in a
# meta tag (so a saved copy stays locked down); the header adds what a meta tag cannot say.
PAGE_RESPONSE_HEADERS: Mapping[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
NOTIFICATION_TEMPLATES: Mapping[NotificationKind, str] = {
    NotificationKind.EVENT: "notification_event.txt.j2",
    NotificationKind.INFO: "notification_info.txt.j2",
    NotificationKind.WARNING: "notification_warning.txt.j2",
    NotificationKind.ERROR: "notification_error.txt.j2",
}

# How a status looks (colour and icon); the badge always spells the status out too.
STATUS_TONES: Mapping[str, str] = {
    Status.COMPLETED: "success",
    Status.FAILED: "failed",
    Status.ERROR: "error",
    Status.ERROR_EVENT_TIMEOUT: "error",
    Status.IN_PROGRESS: "running",
    TimelineStatus.EVENT_IN_PROGRESS: "running",
    TimelineStatus.EVENT_IN_PROGRESS_WITH_ERROR: "error",
    TimelineStatus.NOT_STARTED: "idle",
}
SEMVER_TONES: Mapping[SemverStanding, str] = {
    SemverStanding.BEHIND: "error",
    SemverStanding.AHEAD: "running",
    SemverStanding.EQUAL: "success",
}

# Words written in capitals when a field name becomes a label.
_ACRONYMS = frozenset({"ami", "amis", "arn", "id", "ids", "qa", "url", "s3", "ec2", "os", "sha1", "vmdk", "cve",
                       "cves", "kms", "sns", "sqs", "uri"})
# Words with a spelling of their own.
_SPELLED_WORDS = {"imagebuilder": "Image Builder", "semver": "semver", "statemachine": "state machine"}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Control characters (except tab and newline) have no business in an email body.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class RenderingError(ValueError):
    """A page or message was asked for with arguments the templates cannot honour."""


# ------------------------------------------------------------------ filters

def field_label(name: Any) -> str:
    """``ami_details`` -> ``AMI details``, ``componentArn`` -> ``Component ARN``: a field name as a person reads it."""
    spaced = _CAMEL_BOUNDARY.sub(" ", str(name)).replace("-", " ").replace("_", " ")
    words = [_SPELLED_WORDS.get(word.lower(), _word(word)) for word in spaced.split()]
    if not words:
        return str(name)
    first = words[0]
    words[0] = first if first[:1].isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


def _word(word: str) -> str:
    if word.lower() in _ACRONYMS:
        return word.upper()
    return word[:1].lower() + word[1:] if word[1:].islower() else word


def status_text(status: Any) -> str:
    """``EVENT_IN_PROGRESS`` -> ``EVENT IN PROGRESS`` (the status as words, still in capitals)."""
    return str(status).replace("_", " ")


def status_tone(status: Any) -> str:
    """The colour family of a status; an unknown status looks neutral rather than failing the page."""
    return STATUS_TONES.get(str(status), "idle")


def standing_tone(standing: Any) -> str:
    """Behind the stack tag's version is red, ahead is blue, equal is green."""
    return SEMVER_TONES[SemverStanding(standing)]


def display_time(value: Any) -> str:
    """``2026-11-23T10:01:00Z`` -> ``2026-11-23 10:01:00 UTC``; anything else is shown as it is."""
    try:
        moment = datetime.strptime(str(value), TIMESTAMP_FORMAT)
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def table_columns(rows: Iterable[Any]) -> list[str]:
    """Every key that appears in a list of mappings, in first-seen order: the columns of their table."""
    columns: dict[str, None] = {}
    for row in rows:
        if isinstance(row, Mapping):
            for key in row:
                columns.setdefault(str(key), None)
    return list(columns)


def is_table(value: Any) -> bool:
    """A non-empty list whose items are all mappings reads best as a table."""
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(item, Mapping) for item in value)


def scalar_text(value: Any) -> str:
    """One value as text: ``None`` is shown as a dash, booleans as yes/no, the rest as ``str``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def one_line(value: Any) -> str:
    """A value on a single line: line breaks and control characters become spaces."""
    return " ".join(" ".join(_clean(scalar_text(value))).split())


def without(value: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """``value`` minus ``keys`` (what is left to show after the named fields were shown)."""
    return {key: item for key, item in value.items() if key not in keys}


def plain_text(value: Any, indent: int = 0) -> str:
    """A value as indented plain text (a YAML-like outline that needs no library to read).

    Mappings become ``label: value`` lines, lists become ``- item`` lines,
    nested values are indented two spaces per level, and a multi-line string
    is indented under its label, so no value can start a line of its own at
    the outer level.
    """
    return "\n".join(_outline(value, indent))


def _clean(text: str) -> list[str]:
    return _CONTROL_CHARACTERS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")


def _outline(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [f"{pad}(none)"]
        lines: list[str] = []
        for key, item in value.items():
            label = " ".join(_clean(str(key)))
            if isinstance(item, (Mapping, list, tuple)) and item:
                lines.append(f"{pad}{label}:")
                lines.extend(_outline(item, indent + 2))
            else:
                lines.extend(_labelled(pad, label, item))
        return lines
    if isinstance(value, (list, tuple)):
        if not value:
            return [f"{pad}(none)"]
        lines = []
        for item in value:
            nested = _outline(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        return lines
    return [f"{pad}{line}" for line in _clean(scalar_text(value))]


def _labelled(pad: str, label: str, item: Any) -> list[str]:
    if isinstance(item, (Mapping, list, tuple)):
        return [f"{pad}{label}: (none)"]
    text = _clean(scalar_text(item))
    if len(text) == 1:
        return [f"{pad}{label}: {text[0]}"]
    return [f"{pad}{label}: |", *(f"{pad}    {line}" for line in text)]


# ------------------------------------------------------------------ environment

@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment (built once per Lambda container).

    Autoescape is on for ``.html.j2`` and off for ``.txt.j2``; undefined
    names fail loudly instead of rendering as empty text.
    """
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(label=field_label, status_text=status_text, tone=status_tone, standing_tone=standing_tone,
                       when=display_time, columns=table_columns, scalar=scalar_text, plain=plain_text,
                       oneline=one_line, without=without)
    env.tests.update(table=is_table)
    return env


# ------------------------------------------------------------------ timeline

def _refresh(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RenderingError(f"refresh_seconds: expected a whole number of seconds, got {value!r}")
    if not MIN_REFRESH_SECONDS <= value <= MAX_REFRESH_SECONDS:
        raise RenderingError(f"refresh_seconds: expected {MIN_REFRESH_SECONDS} to {MAX_REFRESH_SECONDS}, "
                             f"got {value}")
    return value


def render_timeline(view: TimelineView, *, refresh_seconds: int = DEFAULT_REFRESH_SECONDS,
                    rendered_at: datetime | None = None) -> str:
    """The timeline page of one lifecycle phase as a self-contained HTML document.

    The page reloads itself every ``refresh_seconds`` (no JavaScript) and
    says when it was rendered (``rendered_at``, default now) so a reader
    can tell a stale tab from a stalled lifecycle.
    """
    if not isinstance(view, TimelineView):
        raise RenderingError(f"view: expected a TimelineView (domain.timeline.build_timeline), "
                             f"got {type(view).__name__}")
    moment = rendered_at or datetime.now(timezone.utc)
    return environment().get_template(TIMELINE_TEMPLATE).render(
        view=view, header=view.header, panels=view.panels, refresh_seconds=_refresh(refresh_seconds),
        rendered_at=iso_utc(moment), content_security_policy=CONTENT_SECURITY_POLICY,
    )


# ------------------------------------------------------------------ notifications

def render_notification(message: NotificationMessage) -> str:
    """The plain-text email body of a notification (no keys, no key-bearing URLs)."""
    if not isinstance(message, NotificationMessage):
        raise RenderingError(f"message: expected a NotificationMessage (domain.notifications), "
                             f"got {type(message).__name__}")
    template = NOTIFICATION_TEMPLATES[NotificationKind(message.kind)]
    context = redact(message.template_context())
    return environment().get_template(template).render(message=context)


def render_qa_request(message: NotificationMessage) -> str:
    """The plain-text email to the QA team (``domain.qa_certification.qa_request_message``).

    Everything is redacted as in every notification except the one
    credential the QA team must get: the presigned download link of the
    exported disk. The QA key is not in the message (it names the secret).
    """
    if not isinstance(message, NotificationMessage) or not message.body.get("qa_request"):
        raise RenderingError("message: expected a QA certification request (domain.qa_certification)")
    context = redact(message.template_context())
    link = message.body.get("download") or {}
    return environment().get_template(QA_REQUEST_TEMPLATE).render(message=context, download_url=link.get("url"))


EXPORT_READY_TEMPLATE = "vmdk_export_ready.txt.j2"


def render_export_message(message: NotificationMessage) -> str:
    """The email of the standalone export pipeline: a finished export (with the one credential it must
    carry, the download link), or any other notification (an export's failure) as usual."""
    if not isinstance(message, NotificationMessage) or not message.body.get("vmdk_export"):
        return render_notification(message)
    link = message.body.get("download") or {}
    return environment().get_template(EXPORT_READY_TEMPLATE).render(message=redact(message.template_context()),
                                                                    download_url=link.get("url"))
