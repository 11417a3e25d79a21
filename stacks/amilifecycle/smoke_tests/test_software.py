"""The commands and packages the image must carry are installed."""

import pytest

import rootfs
from conftest import expected


@pytest.mark.parametrize("command", expected("required_commands", []))
def test_command_present(root, command):
    assert rootfs.find_command(root, command) is not None, (
        f"command {command!r} not found (looked in {', '.join('/' + d for d in rootfs.COMMAND_DIRECTORIES)})")


@pytest.mark.parametrize("package", expected("required_packages", []))
def test_package_installed(root, package):
    installed, answer = rootfs.package_installed(root, package)
    assert installed, f"package {package!r} is not installed: {answer}"
