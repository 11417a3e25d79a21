"""Reading the instance's operating system from a root directory.

Every path the suite reads is relative to ``SMOKE_TEST_ROOT`` (default
``/``), so the same tests check a real instance and a root filesystem laid
out anywhere else (the local cloud's simulated instances, a mounted image).
"""

from __future__ import annotations

import glob
import os
import shlex
import stat
import subprocess
from pathlib import Path

COMMAND_DIRECTORIES = ("usr/bin", "usr/sbin", "bin", "sbin", "usr/local/bin", "usr/local/sbin")
UNIT_DIRECTORIES = ("etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system")


def root_directory() -> Path:
    return Path(os.environ.get("SMOKE_TEST_ROOT") or "/")


def under(root: Path, path: str) -> Path:
    """``path`` (absolute or relative) inside ``root``."""
    return root / path.lstrip("/")


def os_release(root: Path) -> dict[str, str]:
    """The fields of /etc/os-release (or /usr/lib/os-release), unquoted."""
    for candidate in ("etc/os-release", "usr/lib/os-release"):
        path = under(root, candidate)
        if path.is_file():
            fields = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                name, _, value = line.partition("=")
                parts = shlex.split(value) if value else [""]
                fields[name.strip()] = parts[0] if parts else ""
            return fields
    raise FileNotFoundError(f"no os-release file under {root}")


def find_command(root: Path, name: str) -> Path | None:
    """The executable ``name`` in the usual command directories, if any."""
    for directory in COMMAND_DIRECTORIES:
        path = under(root, f"{directory}/{name}")
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def package_installed(root: Path, name: str) -> tuple[bool, str]:
    """Whether the RPM package ``name`` is installed, asking the instance's
    own ``rpm`` (``rpm -q``); its answer comes back as the explanation."""
    rpm = find_command(root, "rpm")
    if rpm is None:
        return False, f"no rpm command under {root}"
    result = subprocess.run([str(rpm), "-q", name], capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "SMOKE_TEST_ROOT": str(root)})
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def unit_file(root: Path, unit: str) -> Path | None:
    for directory in UNIT_DIRECTORIES:
        path = under(root, f"{directory}/{unit}")
        if path.exists() or path.is_symlink():
            return path
    return None


def unit_enabled(root: Path, unit: str) -> list[str]:
    """The ``*.wants``/``*.requires`` links that enable ``unit`` (what
    ``systemctl enable`` creates under /etc/systemd/system)."""
    base = str(under(root, "etc/systemd/system"))
    links = []
    for directory in sorted(glob.glob(f"{base}/*.wants") + glob.glob(f"{base}/*.requires")):
        link = Path(directory) / unit
        if link.is_symlink() or link.exists():
            links.append(str(link.relative_to(root)))
    return links


def sshd_settings(root: Path) -> dict[str, str]:
    """sshd's effective global settings from /etc/ssh/sshd_config and the
    files it includes: keywords are case-insensitive and the first value
    obtained wins, as sshd reads them; ``Match`` blocks are left out."""
    settings: dict[str, str] = {}
    _read_sshd_config(root, under(root, "etc/ssh/sshd_config"), settings, depth=0)
    return settings


def _read_sshd_config(root: Path, path: Path, settings: dict[str, str], depth: int) -> None:
    if depth > 8 or not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace("=", " ", 1).split(None, 1)
        keyword = parts[0].lower()
        value = parts[1].strip() if len(parts) > 1 else ""
        if keyword == "match":
            return
        if keyword == "include":
            for pattern in value.split():
                if not pattern.startswith("/"):
                    pattern = f"/etc/ssh/{pattern}"
                for included in sorted(glob.glob(str(under(root, pattern)))):
                    _read_sshd_config(root, Path(included), settings, depth + 1)
            continue
        settings.setdefault(keyword, value)


def world_writable(root: Path, directory: str) -> list[str]:
    """Files and directories under ``directory`` that anyone may write
    (symbolic links do not count: their mode means nothing)."""
    found = []
    top = under(root, directory)
    for current, directories, files in os.walk(top):
        for name in directories + files:
            path = Path(current) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                continue
            if mode & stat.S_IWOTH:
                found.append("/" + str(path.relative_to(root)))
    return sorted(found)
