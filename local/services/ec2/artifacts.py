"""The objects export and store-image tasks leave in S3.

They are small stand-ins, not bootable disks, but each is a real file of its
kind: an exported VMDK starts with a stream-optimized sparse extent header
(magic ``KDMV``) and its embedded descriptor, a VHD is a fixed-disk footer
(cookie ``conectix``), a RAW image is its first sector, and a stored AMI
(``<ami-id>.bin``) carries a header line and the image's metadata as JSON.
Tools that look at the header (``file``, ``qemu-img info``) recognise them.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
from typing import Any

SECTOR = 512
GIB = 1024 ** 3
VMDK_MAGIC = 0x564D444B  # "KDMV" little-endian
VMDK_FLAGS = 0x00030001  # newline test, compressed grains, markers (stream-optimized)
GD_AT_END = 0xFFFFFFFFFFFFFFFF


def vmdk(name: str, size_gib: int) -> bytes:
    capacity = size_gib * GIB // SECTOR
    descriptor = _vmdk_descriptor(name, capacity)
    descriptor_sectors = -(-len(descriptor) // SECTOR)
    header = struct.pack(
        "<IIIQQQQIQQQB4sH433x",
        VMDK_MAGIC, 3, VMDK_FLAGS, capacity, 128, 1, descriptor_sectors, 512,
        0, GD_AT_END, 1 + descriptor_sectors, 0, b"\n \r\n", 1,
    )
    body = descriptor.ljust(descriptor_sectors * SECTOR, b"\0")
    end_of_stream = bytes(SECTOR)
    return header + body + end_of_stream


def _vmdk_descriptor(name: str, capacity: int) -> bytes:
    cylinders = min(capacity // (255 * 63), 65535)
    return (
        "# Disk DescriptorFile\n"
        "version=1\n"
        f"CID={uuid.uuid4().hex[:8]}\n"
        "parentCID=ffffffff\n"
        'createType="streamOptimized"\n\n'
        "# Extent description\n"
        f'RDONLY {capacity} SPARSE "{name}"\n\n'
        "# The Disk Data Base\n"
        "#DDB\n\n"
        'ddb.adapterType = "lsilogic"\n'
        f'ddb.geometry.cylinders = "{cylinders}"\n'
        'ddb.geometry.heads = "255"\n'
        'ddb.geometry.sectors = "63"\n'
        'ddb.virtualHWVersion = "4"\n'
    ).encode()


def vhd(size_gib: int) -> bytes:
    """A fixed-disk VHD footer (the whole file of an empty fixed VHD minus its data)."""
    size = size_gib * GIB
    timestamp = int(time.time()) - 946684800  # seconds since 2000-01-01
    footer = bytearray(struct.pack(
        ">8sIIQI4sI4sQQHBBII16sB427x",
        b"conectix", 2, 0x00010000, 0xFFFFFFFFFFFFFFFF, timestamp, b"loca", 0x00010000, b"Wi2k",
        size, size, min(size // (SECTOR * 16 * 63), 65535), 16, 63, 2, 0, uuid.uuid4().bytes, 0,
    ))
    checksum = ~sum(footer) & 0xFFFFFFFF
    footer[64:68] = struct.pack(">I", checksum)
    return bytes(footer)


def raw() -> bytes:
    """The first sector of a raw disk: an empty MBR with its boot signature."""
    return bytes(SECTOR - 2) + b"\x55\xaa"


def disk_image(disk_format: str, name: str, size_gib: int) -> bytes:
    if disk_format == "VMDK":
        return vmdk(name, size_gib)
    if disk_format == "VHD":
        return vhd(size_gib)
    return raw()


def stored_ami(image: dict[str, Any]) -> bytes:
    """What ``CreateStoreImageTask`` writes: a header line naming the format,
    then the AMI's metadata, enough to inspect what was backed up."""
    return b"EC2-AMI-STORE 1\n" + json.dumps(image, sort_keys=True, default=str).encode() + b"\n"
