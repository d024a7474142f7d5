"""Tests for core.photos: every image is generated in memory with Pillow (no binary fixtures)."""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile

from core.photos import Photo, PhotoProblem, inspect_photo

MB = 1024 * 1024
RED = (220, 20, 20)
BLUE = (20, 40, 200)


# --------------------------------------------------------------------------- helpers


def _encode(img: Image.Image, fmt: str, **params) -> bytes:
    """Serialise a generated image, since tests must not depend on binary fixtures."""
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _scene(size=(300, 200)) -> Image.Image:
    """A blue picture with a red top-left block, so orientation changes are observable."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, 40, 40))
    return img


def _jpeg_with_metadata() -> bytes:
    """A phone-like JPEG carrying orientation, GPS, XMP, ICC and a comment to be stripped."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestPhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (6.0, 10.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (106.0, 49.0, 12.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return _encode(
        _scene(),
        "JPEG",
        quality=95,
        exif=exif,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">reporter-secret-xmp</x:xmpmeta>',
        comment=b"reporter-secret-comment",
        icc_profile=icc,
    )


def _jpeg_markers(data: bytes) -> list[int]:
    """List JPEG segment markers up to the scan, to prove no APPn/COM metadata survives."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims any size, since real huge images are slow to build."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def _ok(result: Photo | PhotoProblem) -> Photo:
    """Unwrap an accepted photo with a readable failure message otherwise."""
    assert isinstance(result, Photo), result
    return result


def _problem(result: Photo | PhotoProblem) -> PhotoProblem:
    """Unwrap a refusal with a readable failure message otherwise."""
    assert isinstance(result, PhotoProblem), "expected a refusal, got an accepted Photo"
    return result


def _near(pixel, colour, tol=40) -> bool:
    """JPEG is lossy, so compare colours with a tolerance."""
    return all(abs(a - b) <= tol for a, b in zip(pixel, colour, strict=True))


# --------------------------------------------------------------------------- accepted photos


def test_jpeg_metadata_stripped_orientation_applied_original_kept():
    data = _jpeg_with_metadata()
    original_copy = bytes(data)
    # Sanity: the input really carries what we claim to strip.
    src = Image.open(io.BytesIO(data))
    assert src.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(src.info)

    photo = _ok(inspect_photo(data, max_bytes=5 * MB))

    assert photo.original == original_copy
    assert photo.sha256 == hashlib.sha256(original_copy).hexdigest()
    assert photo.mime == "image/jpeg"
    assert (photo.width, photo.height) == (200, 300)  # orientation 6 -> transposed

    clean = Image.open(io.BytesIO(photo.clean))
    assert clean.format == "JPEG"
    assert clean.mode == "RGB"
    assert clean.size == (200, 300)
    assert len(clean.getexif()) == 0
    assert not clean.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"):
        assert key not in clean.info
    # Byte level: only SOI/JFIF/quant/huffman/frame/scan segments; no APP1 (EXIF/XMP),
    # APP2 (ICC) or COM (comment).
    markers = _jpeg_markers(photo.clean)
    assert not any(0xE1 <= m <= 0xEF for m in markers)
    assert 0xFE not in markers
    for secret in (b"TestPhoneMaker", b"reporter-secret", b"Exif\x00\x00"):
        assert secret not in photo.clean
    # Orientation 6 = rotate 90 deg clockwise: stored top-left ends up top-right.
    assert _near(clean.getpixel((photo.width - 10, 10)), RED)
    assert _near(clean.getpixel((10, 10)), BLUE)


def test_png_with_alpha_becomes_rgb_jpeg_on_white():
    img = Image.new("RGBA", (120, 80), (0, 0, 0, 0))  # fully transparent...
    img.paste((*BLUE, 255), (60, 0, 120, 80))  # ...left half, opaque blue right half
    data = _encode(img, "PNG")

    photo = _ok(inspect_photo(data, max_bytes=MB))

    assert photo.mime == "image/png"
    assert photo.original == data
    clean = Image.open(io.BytesIO(photo.clean))
    assert (clean.format, clean.mode, clean.size) == ("JPEG", "RGB", (120, 80))
    assert _near(clean.getpixel((10, 40)), (255, 255, 255), tol=8)
    assert _near(clean.getpixel((100, 40)), BLUE)


def test_palette_png_with_transparency_is_flattened_on_white():
    img = Image.new("P", (100, 100), 0)
    img.putpalette([0, 0, 0, *RED] + [0] * (256 * 3 - 6))
    img.paste(1, (50, 0, 100, 100))
    data = _encode(img, "PNG", transparency=0)

    clean = Image.open(io.BytesIO(_ok(inspect_photo(data, max_bytes=MB)).clean))
    assert clean.mode == "RGB"
    assert _near(clean.getpixel((10, 50)), (255, 255, 255), tol=8)
    assert _near(clean.getpixel((90, 50)), RED)


def test_16bit_greyscale_png_keeps_its_tones():
    img = Image.new("I;16", (80, 80), 32768)  # mid grey in 16-bit
    photo = _ok(inspect_photo(_encode(img, "PNG"), max_bytes=MB))
    value = Image.open(io.BytesIO(photo.clean)).getpixel((40, 40))
    assert _near(value, (128, 128, 128), tol=6)


def test_cmyk_jpeg_is_converted_to_rgb():
    img = Image.new("CMYK", (80, 80), (0, 255, 255, 0))  # red in CMYK
    clean = Image.open(io.BytesIO(_ok(inspect_photo(_encode(img, "JPEG"), max_bytes=MB)).clean))
    assert clean.mode == "RGB"
    assert _near(clean.getpixel((40, 40)), (255, 0, 0), tol=50)


def test_webp_is_accepted():
    photo = _ok(inspect_photo(_encode(_scene(), "WEBP", quality=90), max_bytes=MB))
    assert photo.mime == "image/webp"
    assert (photo.width, photo.height) == (300, 200)
    assert Image.open(io.BytesIO(photo.clean)).format == "JPEG"


def test_multi_picture_jpeg_from_phone_is_accepted_as_jpeg():
    data = _encode(_scene(), "MPO", save_all=True, append_images=[_scene()])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    photo = _ok(inspect_photo(data, max_bytes=MB))
    assert photo.mime == "image/jpeg"


def test_large_photo_is_downscaled_to_2560_longest_side():
    img = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    photo = _ok(inspect_photo(_encode(img, "JPEG", quality=80), max_bytes=20 * MB))
    assert (photo.width, photo.height) == (2560, 1920)
    assert Image.open(io.BytesIO(photo.clean)).size == (2560, 1920)


def test_wide_png_is_downscaled_keeping_aspect():
    photo = _ok(inspect_photo(_encode(Image.new("RGB", (3000, 100), BLUE), "PNG"), max_bytes=MB))
    assert photo.width == 2560
    assert photo.height in (85, 86)


def test_photo_repr_does_not_dump_bytes():
    photo = _ok(inspect_photo(_jpeg_with_metadata(), max_bytes=MB))
    text = repr(photo)
    assert "original" not in text and "clean" not in text
    assert photo.sha256 in text


def test_accepts_bytearray_and_keeps_bytes():
    data = _encode(_scene(), "PNG")
    photo = _ok(inspect_photo(bytearray(data), max_bytes=MB))
    assert type(photo.original) is bytes and photo.original == data


# --------------------------------------------------------------------------- refusals


def test_too_large_is_checked_on_bytes_before_decoding():
    data = _encode(_scene(), "JPEG")
    assert _problem(inspect_photo(data, max_bytes=len(data) - 1)).reason == "too_large"
    _ok(inspect_photo(data, max_bytes=len(data)))
    # Never decoded: even garbage over the limit is reported as too_large.
    assert _problem(inspect_photo(b"x" * 100, max_bytes=99)).reason == "too_large"


def test_empty_payload_is_not_image():
    assert _problem(inspect_photo(b"", max_bytes=MB)).reason == "not_image"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n",
        b"Tolong! Ada kebakaran di Jalan Merdeka",
        b"<html><body>not a photo</body></html>",
    ],
    ids=["pdf", "text", "html"],
)
def test_non_images_are_not_image(data):
    assert _problem(inspect_photo(data, max_bytes=MB)).reason == "not_image"


@pytest.mark.parametrize(
    "magic",
    [b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x10\x00\x00WEBPVP8 "],
    ids=["jpeg-jfif", "jpeg-exif", "png", "webp"],
)
def test_fake_magic_header_with_random_bytes_is_refused(magic):
    rng = random.Random(112)
    for _ in range(20):
        data = magic + rng.randbytes(4096)
        problem = _problem(inspect_photo(data, max_bytes=MB))
        assert problem.reason in ("not_image", "unreadable")


def test_truncated_jpeg_is_unreadable():
    data = _encode(Image.effect_noise((640, 480), 60).convert("RGB"), "JPEG", quality=90)
    half = data[: len(data) // 2]
    problem = _problem(inspect_photo(half, max_bytes=MB))
    assert problem.reason == "unreadable"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_large_jpeg_is_unreadable_even_with_draft_decoding():
    # 5200x3000 makes libjpeg decode at 1/2 scale (draft); truncation must still be caught.
    img = Image.linear_gradient("L").resize((5200, 3000), Image.Resampling.NEAREST).convert("RGB")
    data = _encode(img, "JPEG", quality=70)
    with Image.open(io.BytesIO(data)) as probe:
        probe.draft(None, (2560, 1477))
        assert probe.size == (2600, 1500)
    assert _problem(inspect_photo(data[: len(data) // 2], max_bytes=50 * MB)).reason == "unreadable"


def test_corrupted_png_crc_is_unreadable():
    data = bytearray(_encode(_scene(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # flip a byte inside compressed data -> CRC mismatch
    assert _problem(inspect_photo(bytes(data), max_bytes=MB)).reason == "unreadable"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_unsupported(fmt):
    data = _encode(_scene(), fmt)
    problem = _problem(inspect_photo(data, max_bytes=MB))
    assert problem.reason == "unsupported_format"
    assert fmt in problem.detail


@pytest.mark.parametrize("size", [(10, 10), (10, 500), (500, 63)])
def test_tiny_images_are_too_small(size):
    data = _encode(Image.new("RGB", size, BLUE), "PNG")
    assert _problem(inspect_photo(data, max_bytes=MB)).reason == "too_small"


def test_min_side_boundary_is_inclusive():
    _ok(inspect_photo(_encode(Image.new("RGB", (64, 64), BLUE), "PNG"), max_bytes=MB))


def test_huge_claimed_dimensions_are_too_many_pixels():
    # 20000x20000 = 400 Mpx: Pillow's own DecompressionBombError fires inside Image.open.
    data = _png_header_only(20000, 20000)
    assert len(data) < 100
    assert _problem(inspect_photo(data, max_bytes=MB)).reason == "too_many_pixels"


def test_pixel_limit_is_checked_from_header_with_custom_max():
    data = _png_header_only(5000, 5000)  # header only: decoding would fail, so it must not happen
    problem = _problem(inspect_photo(data, max_bytes=MB, max_pixels=20_000_000))
    assert problem.reason == "too_many_pixels"
    real = _encode(Image.new("RGB", (300, 200), BLUE), "JPEG")
    assert _problem(inspect_photo(real, max_bytes=MB, max_pixels=50_000)).reason == "too_many_pixels"
    _ok(inspect_photo(real, max_bytes=MB, max_pixels=60_000))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pillow_warning_zone_counts_as_too_many_pixels_even_with_higher_max():
    # 10000x10000 = 100 Mpx: above Image.MAX_IMAGE_PIXELS (warning), below 2x (error).
    data = _png_header_only(10000, 10000)
    problem = _problem(inspect_photo(data, max_bytes=MB, max_pixels=10**9))
    assert problem.reason == "too_many_pixels"


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_warning_raised_as_error_is_too_many_pixels():
    data = _png_header_only(10000, 10000)
    assert _problem(inspect_photo(data, max_bytes=MB)).reason == "too_many_pixels"


def test_global_pillow_state_is_untouched():
    before = (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)
    inspect_photo(_jpeg_with_metadata(), max_bytes=MB)
    inspect_photo(_png_header_only(20000, 20000), max_bytes=MB)
    inspect_photo(b"\xff\xd8\xff\xe0" + os.urandom(512), max_bytes=MB)
    assert before == (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_problem_details_carry_no_payload_bytes():
    secret = b"NIK 3171234567890001 Budi"
    for data in (b"%PDF-1.4 " + secret, b"\xff\xd8\xff\xe0" + secret * 20):
        problem = _problem(inspect_photo(data, max_bytes=MB))
        assert "3171234567890001" not in problem.detail and "Budi" not in problem.detail


def test_invalid_limits_raise():
    with pytest.raises(ValueError):
        inspect_photo(b"x", max_bytes=0)
