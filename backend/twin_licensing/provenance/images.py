"""What an uploaded image is, judged by its content only: JPEG, PNG or WebP as Pillow sniffs it (never the declared
type), at most `MAX_ASSET_BYTES`, at most `MAX_PIXELS` (decompression bombs), decoded completely (truncated files
are refused). Its SHA-256 (the use's `use_ref`), size, dimensions and perceptual hash, and its thumbnail."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import BadImage, ImageTooLarge, NotAnImage

MAX_ASSET_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: far above any campaign image, far below what a bomb decodes to
THUMBNAIL_PX = 256
# Pillow's format name -> the media type we store and serve.
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Pillow refuses anything above twice this with DecompressionBombError; the warning band becomes an error here too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class ImageFacts:
    sha256: str  # 0x-hex, what `use_ref` holds for a use with this image
    media_type: str
    size: int
    width: int
    height: int
    phash: str  # 16 hex digits: the 64-bit DCT perceptual hash


def sha256_hex(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


def too_large_sentence() -> str:
    return f"the image is larger than {MAX_ASSET_BYTES // (1024 * 1024)} MB: send a smaller file"


def sniff(data: bytes) -> tuple[Image.Image, str]:
    """The image (header read, pixels not decoded yet) and its media type; a refusal in words for anything that is
    not a JPEG, PNG or WebP of sane dimensions."""
    if len(data) > MAX_ASSET_BYTES:
        raise ImageTooLarge(too_large_sentence())
    if not data:
        raise NotAnImage("the request holds no image: send a JPEG, PNG or WebP file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(MEDIA_TYPES))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except UnidentifiedImageError:
        raise NotAnImage(
            "the file is not a JPEG, PNG or WebP image (whatever its name or declared type says): send one of those"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadImage(f"the image cannot be read ({_short(exc)}): it may be damaged; send it again") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise BadImage(
            f"the image has {width} x {height} pixels, more than the {MAX_PIXELS // 1_000_000} megapixels "
            "accepted: send a smaller image"
        )
    return image, MEDIA_TYPES[image.format]


def decode(image: Image.Image) -> Image.Image:
    """The image with every pixel decoded; a refusal for a truncated or corrupt one.

    A JPEG is decoded at the smallest DCT scale that keeps it at least `THUMBNAIL_PX` on each side (its whole
    stream is still read, so truncation is still found): all that is made of the pixels is a thumbnail and a
    perceptual hash. Read the dimensions from the image before decoding it.
    """
    if image.format == "JPEG":
        image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadImage(f"the image cannot be decoded completely ({_short(exc)}): it may be truncated; send it again") from None
    return image


def open_image(data: bytes) -> tuple[Image.Image, str]:
    """The decoded image and its media type (`sniff`, then `decode`)."""
    image, media_type = sniff(data)
    return decode(image), media_type


def _bomb() -> BadImage:
    return BadImage(f"the image claims more than {MAX_PIXELS // 1_000_000} megapixels: send a smaller image")


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120].rstrip(".")


PHASH_BASE_PX = 128  # the image is box-reduced to about this before pHash's own 32 px resize: 15x faster at 1024 px


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit pHash of the image as 16 hex digits (orientation and alpha flattened first)."""
    rgb = _rgb(image)
    factor = min(rgb.size) // PHASH_BASE_PX
    return str(imagehash.phash(rgb.reduce(factor) if factor > 1 else rgb))


def _rgb(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) if image.format == "JPEG" else image
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def inspect(data: bytes) -> ImageFacts:
    image, media_type = sniff(data)
    width, height = image.size
    return ImageFacts(
        sha256=sha256_hex(data),
        media_type=media_type,
        size=len(data),
        width=width,
        height=height,
        phash=perceptual_hash(decode(image)),
    )


def thumbnail(data: bytes, px: int = THUMBNAIL_PX) -> bytes:
    """A JPEG at most `px` on its longer side."""
    image, _ = open_image(data)
    small = _rgb(image)
    small.thumbnail((px, px))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()

