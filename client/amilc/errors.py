"""Exit codes and the one error type the clients raise.

Every failure ends the program with one line on stderr,
``error: <what was wrong and what to do>``, and an exit code a script can
test. No traceback reaches the user: the message is the interface.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a client's exit status means (docs/cli.md lists them per client)."""

    OK = 0
    # The API refused the request (HTTP 4xx/5xx), or the selection found no AMI.
    REFUSED = 1
    # A flag is missing, malformed or not allowed with the operation.
    USAGE = 2
    # The deployment cannot be reached: region, credentials, stack, output, secret, network.
    ENVIRONMENT = 3
    # --wait: the event was still running when --timeout ran out.
    TIMEOUT = 4
    # --wait: the event ended FAILED or ERROR.
    EVENT_FAILED = 5
    # The user interrupted the program (Ctrl-C).
    INTERRUPTED = 130


class ClientError(Exception):
    """A failure the user can act on; ``str()`` is the whole message, on one line."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.ENVIRONMENT) -> None:
        super().__init__(one_line(message))
        self.message = one_line(message)
        self.exit_code = exit_code


class UsageError(ClientError):
    """A flag is missing or wrong; names the flag and what it accepts."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())
