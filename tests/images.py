"""Photos made on the fly: a phone-like JPEG with GPS in its EXIF, and things pretending to be photos."""
from __future__ import annotations

import io
import os

from PIL import Image


def phone_jpeg(width: int = 800, height: int = 600) -> bytes:
    """A JPEG carrying GPS coordinates in EXIF, as phone cameras write them."""
    img = Image.new("RGB", (width, height), (200, 80, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (7.0, 1.0, 0.0), "E", (113.0, 52.0, 0.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, quality=80)
    return buf.getvalue()


def noisy_jpeg(size_bytes: int) -> bytes:
    """A real JPEG at least `size_bytes` long (noise does not compress)."""
    side = 600
    while True:
        img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=100)
        if buf.tell() >= size_bytes:
            return buf.getvalue()
        side *= 2


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
