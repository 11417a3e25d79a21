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
GRAIN_SECTORS = 128  # 64 KiB grains
GTES_PER_GT = 512
COMPRESS_DEFLATE = 1
MARKER_END_OF_STREAM, MARKER_GRAIN_DIRECTORY, MARKER_FOOTER = 0, 2, 3


def vmdk(name: str, size_gib: int) -> bytes:
    """A stream-optimized VMDK of an empty disk, laid out as VM Import/Export writes one.

    The header says the grain directory is at the end (``GD_AT_END``); the
    stream then holds the descriptor, no grains (every grain of an empty
    disk is unallocated), the grain-directory marker and the directory (all
    entries zero), the footer marker and the footer (the header again, with
    the directory's real offset) and the end-of-stream marker. Readers of
    the format (``qemu-img info``/``check``/``convert``) open it.
    """
    capacity = size_gib * GIB // SECTOR
    descriptor = _vmdk_descriptor(name, capacity)
    descriptor_sectors = -(-len(descriptor) // SECTOR)
    grain_tables = -(-capacity // (GRAIN_SECTORS * GTES_PER_GT))
    directory_sectors = -(-grain_tables * 4 // SECTOR)
    directory_offset = 1 + descriptor_sectors + 1  # header, descriptor, directory marker
    overhead = 1 + descriptor_sectors
    body = descriptor.ljust(descriptor_sectors * SECTOR, b"\0")
    return (_vmdk_header(capacity, descriptor_sectors, GD_AT_END, overhead) + body
            + _marker(directory_sectors, MARKER_GRAIN_DIRECTORY) + bytes(directory_sectors * SECTOR)
            + _marker(1, MARKER_FOOTER) + _vmdk_header(capacity, descriptor_sectors, directory_offset, overhead)
            + _marker(0, MARKER_END_OF_STREAM))


def _vmdk_header(capacity: int, descriptor_sectors: int, directory_offset: int, overhead: int) -> bytes:
    return struct.pack(
        "<IIIQQQQIQQQB4sH433x",
        VMDK_MAGIC, 3, VMDK_FLAGS, capacity, GRAIN_SECTORS, 1, descriptor_sectors, GTES_PER_GT,
        0, directory_offset, overhead, 0, b"\n \r\n", COMPRESS_DEFLATE,
    )


def _marker(value: int, kind: int) -> bytes:
    """A stream-optimized metadata marker: sector count, size 0, marker type, padded to a sector."""
    return struct.pack("<QII", value, 0, kind).ljust(SECTOR, b"\0")


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
