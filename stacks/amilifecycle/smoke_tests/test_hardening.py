"""Hardening the image must have: sshd settings, file permissions."""

import stat

import pytest

import rootfs
from conftest import expected


@pytest.mark.parametrize("keyword,value", sorted(expected("sshd_settings", {}).items()))
def test_sshd_setting(root, keyword, value):
    actual = rootfs.sshd_settings(root).get(keyword.lower())
    assert actual is not None and actual.lower() == value.lower(), (
        f"sshd_config {keyword} is {actual!r} (unset means sshd's default), expected {value!r}")


@pytest.mark.parametrize("directory", expected("no_world_writable_under", []))
def test_nothing_world_writable(root, directory):
    found = rootfs.world_writable(root, directory)
    assert not found, f"world-writable under /{directory}: {', '.join(found[:20])}"


@pytest.mark.parametrize("directory", expected("sticky_directories", []))
def test_directory_sticky(root, directory):
    path = rootfs.under(root, directory)
    assert path.is_dir(), f"/{directory} is not a directory"
    assert path.stat().st_mode & stat.S_ISVTX, f"/{directory} lacks the sticky bit (mode {path.stat().st_mode:o})"
