"""Which Python ``python -m local`` runs on: the project's own.

The local cloud patches private parts of moto and needs the exact pins of
requirements.txt, which ``bash scripts/setup.sh`` installs into ``.venv``.
A user types ``python -m local ...`` with whatever ``python`` their shell
finds (the system's, a pyenv shim). When that interpreter lacks a pinned
package, the command runs itself again with ``.venv/bin/python`` (same
arguments, same environment, same working directory); when there is no
``.venv`` to run with, it stops with one line saying how to make one.

Standard library only: this runs before anything else is imported.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV = PROJECT_ROOT / ".venv"
REQUIREMENTS = PROJECT_ROOT / "requirements.txt"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def pins(requirements: str) -> dict[str, str]:
    """``name == version`` lines of a requirements file (extras dropped)."""
    found = {}
    for line in requirements.splitlines():
        match = _PIN.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def missing(wanted: Mapping[str, str], installed: Callable[[str], str | None] = _installed) -> list[str]:
    """The pins this interpreter does not satisfy, as ``name==pin (found X)``."""
    gaps = []
    for name, version in wanted.items():
        found = installed(name)
        if found != version:
            gaps.append(f"{name}=={version} ({'not installed' if found is None else f'found {found}'})")
    return gaps


def _runs_in(venv: Path) -> bool:
    try:
        return Path(sys.prefix).resolve() == venv.resolve()
    except OSError:
        return False


def ensure_project_python(argv: Sequence[str] | None = None, *, venv: Path = VENV,
                          requirements: Path = REQUIREMENTS,
                          installed: Callable[[str], str | None] = _installed,
                          execv: Callable[[str, list[str]], object] = os.execv) -> None:
    """Return if this interpreter has every pin; otherwise re-execute
    ``python -m local <argv[1:]>`` with the project's ``.venv`` Python, or
    exit with one line when that is not possible."""
    argv = list(sys.argv if argv is None else argv)
    try:
        gaps = missing(pins(requirements.read_text()), installed)
    except FileNotFoundError:
        return
    if not gaps:
        return
    python = venv / "bin" / "python"
    if python.exists() and not _runs_in(venv):
        execv(str(python), [str(python), "-m", "local", *argv[1:]])
        return
    where = "its .venv" if _runs_in(venv) else f"{sys.executable}"
    sys.exit(f"error: the local cloud needs the packages pinned in requirements.txt and {where} lacks "
             f"{', '.join(gaps[:3])}{' ...' if len(gaps) > 3 else ''}: run bash scripts/setup.sh, then the "
             "command again")
