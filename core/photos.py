"""Validate incident photos from reporters and prepare a metadata-free copy for operators."""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # colour management is optional in some Pillow builds
    from PIL import ImageCms
except ImportError:  # pragma: no cover
    ImageCms = None  # type: ignore[assignment]

__all__ = ["CLEAN_MAX_SIDE", "CLEAN_QUALITY", "MAX_PIXELS", "Photo", "PhotoProblem", "inspect_photo"]

CLEAN_MAX_SIDE = 2560
# A phone camera's default shot is 12 MP (4032x3024); 6000x4000 (24 MP) covers the larger default modes.
# The rare 50-200 MP "high resolution" modes are refused with a reason (the bot asks for another photo):
# decoding one of those as PNG/WebP would take 200-800 MB, more than one citizen's message may cost.
MAX_PIXELS = 25_000_000
CLEAN_QUALITY = 85

# Pillow format name -> MIME type of the original. MPO is how Pillow labels the
# multi-picture JPEGs that many phone cameras write; on the wire it is image/jpeg.
_MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}

_WHITE = (255, 255, 255)

Reason = Literal[
    "too_large", "not_image", "unsupported_format", "unreadable", "too_small", "too_many_pixels"
]


@dataclass(frozen=True)
class Photo:
    """An accepted photo: the untouched evidence plus a safe copy to show operators."""

    # repr=False: never dump image bytes (and the GPS in the original) into logs.
    original: bytes = field(repr=False)
    clean: bytes = field(repr=False)
    mime: str
    width: int
    height: int
    sha256: str


@dataclass(frozen=True)
class PhotoProblem:
    """Why a photo was refused, so the bot can ask the reporter for another one."""

    reason: Reason
    detail: str


class _Refused(Exception):
    """Internal short-circuit carrying the PhotoProblem to return."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(reason, detail)
        self.problem = PhotoProblem(reason, detail)


def inspect_photo(
    data: bytes,
    *,
    max_bytes: int,
    min_side: int = 64,
    max_pixels: int = MAX_PIXELS,
) -> Photo | PhotoProblem:
    """Decide if reporter bytes are a usable photo, since bad input must become a reply, not a crash."""
    if max_bytes < 1 or min_side < 1 or max_pixels < 1:
        raise ValueError("max_bytes, min_side and max_pixels must be positive")
    data = bytes(data)
    if not data:
        return PhotoProblem("not_image", "empty payload")
    if len(data) > max_bytes:
        return PhotoProblem("too_large", f"{len(data)} bytes > limit {max_bytes}")
    try:
        mime = _check_header(data, min_side=min_side, max_pixels=max_pixels)
        _verify(data)
        clean, width, height = _make_clean_copy(data)
    except _Refused as refused:
        return refused.problem
    return Photo(
        original=data,
        clean=clean,
        mime=mime,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _open(data: bytes) -> Image.Image:
    """Open lazily (header only) and map Pillow's failures to reasons, since it raises many types."""
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise _Refused("not_image", "not a recognised image format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives as an exception only if the process runs with -W error.
        raise _Refused("too_many_pixels", f"decompression bomb guard: {type(exc).__name__}") from None
    except Exception as exc:  # noqa: BLE001 - hostile input may trip any plugin error
        raise _Refused("unreadable", f"header parse failed: {type(exc).__name__}") from None


def _pixel_limit(max_pixels: int) -> int:
    """Never exceed Pillow's own bomb threshold, so its warning zone counts as too_many_pixels."""
    pillow_limit = Image.MAX_IMAGE_PIXELS  # read only; we never change global Pillow state
    return max_pixels if pillow_limit is None else min(max_pixels, int(pillow_limit))


def _check_header(data: bytes, *, min_side: int, max_pixels: int) -> str:
    """Reject by format and dimensions from the header alone, before paying for a full decode."""
    with _open(data) as img:
        fmt = (img.format or "").upper()
        width, height = img.size
    mime = _MIME_BY_FORMAT.get(fmt)
    if mime is None:
        raise _Refused("unsupported_format", f"format {fmt or 'unknown'} not accepted")
    limit = _pixel_limit(max_pixels)
    if width * height > limit:
        raise _Refused("too_many_pixels", f"{width}x{height} > {limit} pixels")
    if min(width, height) < min_side:
        raise _Refused("too_small", f"{width}x{height}, min side {min_side}")
    return mime


def _verify(data: bytes) -> None:
    """Run Pillow's structural check (e.g. PNG CRCs), since a valid header proves nothing."""
    with _open(data) as img:
        try:
            img.verify()
        except Exception as exc:  # noqa: BLE001
            raise _Refused("unreadable", f"verify failed: {type(exc).__name__}") from None


def _make_clean_copy(data: bytes) -> tuple[bytes, int, int]:
    """Decode every pixel and re-encode, since only real decoding catches fake or truncated files."""
    with _open(data) as img:  # verify() leaves the image unusable, so re-open
        _draft_for_target(img)
        try:
            img.load()  # raises on truncation as long as LOAD_TRUNCATED_IMAGES is False
        except Image.DecompressionBombError:
            raise _Refused("too_many_pixels", "decompression bomb guard on load") from None
        except Exception as exc:  # noqa: BLE001
            raise _Refused("unreadable", f"decode failed: {type(exc).__name__}") from None
        try:
            ImageOps.exif_transpose(img, in_place=True)  # in place: no second full-size copy
        except Exception:  # noqa: BLE001 - broken EXIF must not cost us an emergency photo
            pass
    rgb = _to_rgb(img)
    rgb.thumbnail((CLEAN_MAX_SIDE, CLEAN_MAX_SIDE), Image.Resampling.LANCZOS)
    # Fresh image: no info dict at all, so no EXIF/GPS/XMP/ICC/comment/dpi can leak on save.
    bare = Image.new("RGB", rgb.size)
    bare.paste(rgb)
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=CLEAN_QUALITY, optimize=True)
    return out.getvalue(), bare.width, bare.height


def _draft_for_target(img: Image.Image) -> None:
    """Let libjpeg decode huge JPEGs at 1/2..1/8 scale, since we only keep 2560 px anyway."""
    width, height = img.size
    longest = max(width, height)
    if img.format not in ("JPEG", "MPO") or longest <= CLEAN_MAX_SIDE:
        return
    scale = CLEAN_MAX_SIDE / longest
    target = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
    try:
        img.draft(None, target)  # picks a scale that keeps both sides >= target
    except Exception:  # noqa: BLE001 - drafting is only an optimisation
        pass


def _to_rgb(img: Image.Image) -> Image.Image:
    """Flatten any mode to 8-bit RGB on white, since JPEG has no alpha and operators need plain colour."""
    img = _to_srgb(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit grey PNGs: plain convert("L") would clip everything above 255 to white.
        img = img.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img if img.mode == "RGB" else img.convert("RGB")


def _to_srgb(img: Image.Image) -> Image.Image:
    """Bake an embedded ICC profile into sRGB pixels, since we strip the profile from the copy."""
    icc = img.info.get("icc_profile")
    if ImageCms is None or not icc or "transparency" in img.info:
        return img
    if img.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, src, dst, outputMode=out_mode)
    except Exception:  # noqa: BLE001 - a broken/unsupported profile just means no colour management
        return img
    return converted if converted is not None else img
