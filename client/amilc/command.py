"""A click command whose every failure is one line on stderr and an exit code.

click's own parse errors print the usage and a framed message over several
lines; scripts that call the clients want one line they can log and an exit
status they can branch on. :class:`OneLineCommand` runs the command in
non-standalone mode and turns click errors, :class:`ClientError` and Ctrl-C
into ``error: ...`` and the matching :class:`ExitCode`. The command's
callback returns its exit code.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable, NoReturn

import click

from .errors import ClientError, ExitCode, one_line


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {one_line(message)}", err=True)
    sys.exit(int(code))


class OneLineCommand(click.Command):
    """``click.Command`` with one-line errors (see the module docstring)."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except click.exceptions.Abort:
            fail("interrupted", ExitCode.INTERRUPTED)
        except click.ClickException as error:
            fail(_click_message(error), error.exit_code)
        except ClientError as error:
            fail(error.message, error.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", ExitCode.INTERRUPTED)
        code = int(result) if isinstance(result, int) else int(ExitCode.OK)
        if standalone_mode:
            sys.exit(code)
        return code


def _click_message(error: click.ClickException) -> str:
    message = error.format_message()
    if isinstance(error, click.UsageError) and error.ctx is not None:
        return f"{message} (see {error.ctx.command_path} --help)"
    return message


class Choice(click.Choice):
    """A choice matched case-insensitively that always yields (and lists) the canonical spelling."""

    def __init__(self, choices: Iterable[object]) -> None:
        super().__init__([str(choice) for choice in choices], case_sensitive=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            wanted = value.strip().casefold()
            for choice in self.choices:
                if str(choice).casefold() == wanted:
                    return choice
        return super().convert(value, param, ctx)
