"""The services the image must run start at boot."""

import pytest

import rootfs
from conftest import expected


@pytest.mark.parametrize("unit", expected("enabled_services", []))
def test_unit_file_present(root, unit):
    assert rootfs.unit_file(root, unit) is not None, (
        f"no unit file {unit} (looked in {', '.join('/' + d for d in rootfs.UNIT_DIRECTORIES)})")


@pytest.mark.parametrize("unit", expected("enabled_services", []))
def test_unit_enabled(root, unit):
    assert rootfs.unit_enabled(root, unit), f"{unit} is not enabled (no link in /etc/systemd/system/*.wants)"
