"""The root filesystem of a simulated instance: an Amazon Linux-like tree
laid out in a scratch folder, which the instance's user data sees as
``SMOKE_TEST_ROOT``.

It holds what a smoke test reads on a real instance: ``etc/os-release`` and
``etc/image-id``, a hardened ``etc/ssh/sshd_config`` (with the drop-in
folder Amazon Linux 2023 includes), systemd unit files and the
``multi-user.target.wants`` links of enabled services, executables in
``usr/bin``/``usr/sbin``, an ``rpm`` that answers ``rpm -q`` from the
packages of the tree, and ``tmp`` with the sticky bit. The commands are
stand-ins that say what they are; only their presence is simulated.

``compliant=False`` lays the same tree out with ``PermitRootLogin yes``,
so that a real hardening test fails (the ``ec2 smoke-test-fail`` fault).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

AL2023_PACKAGES = {
    "bash": "5.2.15-1.amzn2023.0.2", "chrony": "4.3-1.amzn2023.0.4", "amazon-ssm-agent": "3.3.987.0-1.amzn2023",
    "openssh-server": "8.7p1-8.amzn2023.0.11", "openssh-clients": "8.7p1-8.amzn2023.0.11",
    "python3": "3.9.16-1.amzn2023.0.9", "sudo": "1.9.15-1.p5.amzn2023.0.1", "systemd": "252.23-2.amzn2023",
    "dnf": "4.14.0-1.amzn2023.0.5", "curl-minimal": "8.5.0-1.amzn2023.0.4", "rpm": "4.16.1.3-29.amzn2023.0.6",
    "cloud-init": "22.2.2-1.amzn2023.1.14", "coreutils": "8.32-30.amzn2023.0.3",
}
# executable -> the package it belongs to
COMMANDS = {
    "usr/bin/bash": "bash", "usr/bin/sh": "bash", "usr/bin/python3": "python3", "usr/bin/sudo": "sudo",
    "usr/bin/systemctl": "systemd", "usr/bin/dnf": "dnf", "usr/bin/curl": "curl-minimal",
    "usr/bin/ssh": "openssh-clients", "usr/sbin/sshd": "openssh-server", "usr/sbin/chronyd": "chrony",
    "usr/bin/amazon-ssm-agent": "amazon-ssm-agent", "usr/bin/cloud-init": "cloud-init",
    "usr/bin/ls": "coreutils", "usr/bin/cat": "coreutils",
}
# unit -> package; all of them enabled in multi-user.target
ENABLED_UNITS = {
    "sshd.service": "openssh-server", "chronyd.service": "chrony", "amazon-ssm-agent.service": "amazon-ssm-agent",
    "cloud-init.service": "cloud-init",
}
PACKAGE_LIST = "var/lib/rpm/installed-packages"

RPM_STAND_IN = """#!/bin/sh
# Stand-in for rpm on a simulated instance: answers "rpm -q NAME..." from
# the packages of this root filesystem.
list="$(dirname "$0")/../../%s"
[ "$1" = "-q" ] || { echo "rpm (simulated): only -q is supported" >&2; exit 2; }
shift
status=0
for name in "$@"; do
  line=$(grep -E "^$name-[0-9]" "$list" 2>/dev/null | head -n 1)
  if [ -n "$line" ]; then echo "$line"; else echo "package $name is not installed"; status=1; fi
done
exit $status
""" % PACKAGE_LIST


@dataclass(frozen=True)
class ImageFacts:
    """What the tree takes from the AMI the instance was launched from."""

    image_id: str
    name: str = ""
    architecture: str = "x86_64"

    @property
    def amazon_linux_2(self) -> bool:
        name = self.name.lower()
        return ("amzn2-" in name or "amazon-linux-2-" in name) and "2023" not in name


def lay_out(root: Path, image: ImageFacts, compliant: bool = True) -> Path:
    """Write the tree under ``root`` (created); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    _write(root, "etc/os-release", _os_release(image))
    _write(root, "etc/image-id", f'image_name="{image.name}"\nimage_id="{image.image_id}"\n'
                                 f'image_arch="{image.architecture}"\n')
    _write(root, "etc/ssh/sshd_config", _sshd_config(compliant))
    _write(root, "etc/ssh/sshd_config.d/50-redhat.conf", "ChallengeResponseAuthentication no\nX11Forwarding yes\n")
    _write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\nec2-user:x:1000:1000::/home/ec2-user:/bin/bash\n")
    _write(root, "etc/hostname", f"ip-10-0-0-1.{image.image_id}.internal\n")
    for path, package in COMMANDS.items():
        _write(root, path, f"#!/bin/sh\necho '{Path(path).name} (simulated, from {package})'\n", mode=0o755)
    _write(root, "usr/bin/rpm", RPM_STAND_IN, mode=0o755)
    _write(root, PACKAGE_LIST, "".join(f"{name}-{version}.{image.architecture}\n"
                                       for name, version in sorted(AL2023_PACKAGES.items())))
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit, package in ENABLED_UNITS.items():
        _write(root, f"usr/lib/systemd/system/{unit}",
               f"[Unit]\nDescription={unit} (simulated, from {package})\n\n[Service]\nExecStart=/bin/true\n\n"
               "[Install]\nWantedBy=multi-user.target\n")
        link = wants / unit
        if not link.is_symlink():
            link.symlink_to(f"/usr/lib/systemd/system/{unit}")
    for directory in ("tmp", "var/tmp"):
        path = root / directory
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o1777)
    return root


def _write(root: Path, relative: str, text: str, mode: int = 0o644) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def _os_release(image: ImageFacts) -> str:
    if image.amazon_linux_2:
        return ('NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n'
                'PRETTY_NAME="Amazon Linux 2"\nCPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"\n')
    return ('NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
            'PLATFORM_ID="platform:al2023"\nPRETTY_NAME="Amazon Linux 2023"\nANSI_COLOR="0;33"\n'
            'CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"\nHOME_URL="https://aws.amazon.com/linux/amazon-linux-2023/"\n')


def _sshd_config(compliant: bool) -> str:
    return ("# sshd_config of a simulated instance\n"
            "Include /etc/ssh/sshd_config.d/*.conf\n"
            f"PermitRootLogin {'no' if compliant else 'yes'}\n"
            "PasswordAuthentication no\n"
            "PubkeyAuthentication yes\n"
            "AuthorizedKeysFile .ssh/authorized_keys\n"
            "UsePAM yes\n"
            "Subsystem sftp /usr/libexec/openssh/sftp-server\n")
