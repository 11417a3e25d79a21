"""Driving Debian's headless Chromium: serve a page on loopback, dump its DOM, take a screenshot.

Each run gets its own throw-away profile directory and every network
feature Chromium would use by itself is switched off, so a run touches
nothing but the page it was given.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

DEFAULT_BINARY = "/usr/bin/chromium"
RUN_TIMEOUT_SECONDS = 90
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BASE_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)


class ChromiumError(RuntimeError):
    """Chromium did not produce what was asked of it."""


def find_chromium() -> str | None:
    """The Chromium binary: /usr/bin/chromium, else whatever ``chromium`` is on PATH."""
    if os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    return shutil.which("chromium")


def run_chromium(binary: str, url: str, *flags: str, timeout: int = RUN_TIMEOUT_SECONDS) -> str:
    """Run Chromium once on ``url`` with ``flags``; its standard output."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [binary, *BASE_FLAGS, f"--user-data-dir={profile}", *flags, url]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ChromiumError(f"chromium did not finish within {timeout} s: {' '.join(command)}") from exc
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        raise ChromiumError(f"chromium exited with {completed.returncode}:\n{tail}")
    return completed.stdout


def dump_dom(binary: str, url: str) -> str:
    """The DOM after the page loaded, serialized as HTML (what the browser built, not what was sent)."""
    dom = run_chromium(binary, url, "--dump-dom")
    if "<html" not in dom:
        raise ChromiumError(f"chromium printed no DOM for {url}: {dom[:200]!r}")
    return dom


def screenshot(binary: str, url: str, target: Path, *, width: int = 1366, height: int = 900) -> Path:
    """A PNG of the page's first screen at ``width`` x ``height``, written to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    run_chromium(binary, url, f"--screenshot={target}", f"--window-size={width},{height}")
    if not target.is_file():
        raise ChromiumError(f"chromium wrote no screenshot to {target}")
    return target


def png_dimensions(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header; a file that is no PNG is an error."""
    head = path.read_bytes()[:24]
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        raise ChromiumError(f"{path} is not a PNG image")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


class _RecordingHandler(SimpleHTTPRequestHandler):
    """Serves files and remembers every path asked for (to prove the page fetches nothing else)."""

    requested: list[str]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requested.append(self.path)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        """Quiet: the test output is no place for an access log."""


@contextmanager
def serve_directory(directory: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve ``directory`` on a free loopback port for the duration of the block.

    Yields the base URL and the list of paths requested so far.
    """
    requested: list[str] = []
    handler = type("Handler", (_RecordingHandler,), {"requested": requested})

    def make_handler(*args, **kwargs):
        return handler(*args, directory=str(directory), **kwargs)

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler)
    thread = threading.Thread(target=server.serve_forever, name="timeline-page-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class DomReader(HTMLParser):
    """The element names of a DOM and the text a person sees (nothing from head, style or script)."""

    _INVISIBLE = frozenset({"head", "style", "script", "title", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self._hidden_depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        if tag in self._INVISIBLE:
            self._hidden_depth += 1
        if tag in ("br", "p", "div", "li", "tr", "td", "th", "dt", "dd", "h1", "h2", "h3", "h4"):
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self._text.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self._text).split())


def read_dom(dom: str) -> DomReader:
    reader = DomReader()
    reader.feed(dom)
    reader.close()
    return reader
