"""Images made in tests and benchmarks (numpy + Pillow): distinct per seed, smooth enough that a perceptual hash
survives re-encoding and rescaling, as photographs do; and the transformations the provenance checks face."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def picture(seed: int, size: int = 256) -> Image.Image:
    """A colourful scene: low-frequency waves plus a few shapes, different for every seed."""
    rng = np.random.default_rng(seed)
    full, size = size, min(size, 256)  # drawn at 256 px at most, then enlarged: smooth, and fast at 1024 px
    y, x = np.mgrid[0:size, 0:size] / size
    channels = []
    for _ in range(3):
        field = np.zeros((size, size))
        for _ in range(4):
            fx, fy = rng.uniform(0.5, 4.0, 2)
            phase = rng.uniform(0, 2 * np.pi)
            field += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * (fx * x + fy * y) + phase)
        channels.append(field)
    img = np.stack(channels, axis=-1)
    for _ in range(6):  # rectangles of flat colour
        x0, y0 = rng.integers(0, size * 3 // 4, 2)
        w, h = rng.integers(size // 10, size // 3, 2)
        img[y0:y0 + h, x0:x0 + w] = rng.uniform(-2, 2, 3)
    img = (img - img.min()) / (img.max() - img.min() + 1e-9) * 255
    image = Image.fromarray(img.astype(np.uint8), "RGB")
    return image if full == size else image.resize((full, full), Image.BICUBIC)


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def stripped_copy(data: bytes, scale: float = 0.6, quality: int = 70) -> bytes:
    """Decoded and saved again as JPEG at `quality`, scaled by `scale`: no manifest survives."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    return encoded(image.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.LANCZOS),
                   "JPEG", quality=quality)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    pos, chunks = 8, []
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunks.append((kind, png[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in chunks:
        out.append(struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body)))
    return b"".join(out)


def png_with_pixel_changed(signed_png: bytes, xy: tuple[int, int] = (10, 10)) -> bytes:
    """The signed PNG with one pixel changed and every other chunk (the manifest's included) kept as it was."""
    image = Image.open(io.BytesIO(signed_png)).convert("RGB")
    r, g, b = image.getpixel(xy)
    image.putpixel(xy, (255 - r, g, b))
    fresh = [body for kind, body in _chunks(encoded(image, "PNG")) if kind == b"IDAT"]
    out, placed = [], False
    for kind, body in _chunks(signed_png):
        if kind == b"IDAT":
            if not placed:
                out.extend((b"IDAT", part) for part in fresh)
                placed = True
            continue
        out.append((kind, body))
    return _png(out)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid PNG header claiming width x height pixels of grey, compressed to a few kilobytes... of a few rows."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)
    return _png([(b"IHDR", header), (b"IDAT", rows), (b"IEND", b"")])


def jpeg_with_scan_altered(signed_jpeg: bytes) -> bytes:
    """The signed JPEG with bytes in the middle of its compressed pixels changed (the manifest segments kept)."""
    data = bytearray(signed_jpeg)
    sos = data.rfind(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
    end = data.rfind(b"\xff\xd9")
    changed, pos = 0, start + (end - start) // 2
    while changed < 8 and pos < end - 1:
        if data[pos] not in (0xFF, 0x00) and data[pos - 1] != 0xFF and data[pos] ^ 0x24 not in (0xFF, 0x00):
            data[pos] ^= 0x24
            changed += 1
        pos += 97
    return bytes(data)
