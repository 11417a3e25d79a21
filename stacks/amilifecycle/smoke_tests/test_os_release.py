"""The instance runs the operating system the AMI is meant to carry."""

import pytest

import rootfs
from conftest import expected


@pytest.mark.parametrize("field,value", sorted(expected("os_release", {}).items()))
def test_os_release_field(root, field, value):
    actual = rootfs.os_release(root).get(field)
    assert actual == value, f"/etc/os-release {field} is {actual!r}, expected {value!r}"
