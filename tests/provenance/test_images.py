"""What counts as an image: the content decides (JPEG, PNG, WebP), never the name or the declared type; bombs,
truncated files and other formats are refused with a sentence; the public check is rate-limited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from twin_licensing.api.app import create_app
from twin_licensing.provenance.errors import BadImage, ImageTooLarge, NotAnImage
from twin_licensing.provenance.images import MAX_ASSET_BYTES, inspect, sha256_hex, thumbnail
from kit.images import encoded, picture, png_bomb
from kit.read_api import app_settings, fake_deployment, market  # noqa: F401


@pytest.mark.parametrize("fmt, media_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_formats_by_content(fmt, media_type):
    data = encoded(picture(5, 64), fmt)
    facts = inspect(data)
    assert (facts.media_type, facts.width, facts.height, facts.size) == (media_type, 64, 64, len(data))
    assert facts.sha256 == sha256_hex(data) and len(facts.phash) == 16
    assert thumbnail(data, 32)[:2] == b"\xff\xd8"


@pytest.mark.parametrize("data, error, words", [
    (encoded(picture(5, 64), "GIF"), NotAnImage, "not a JPEG, PNG or WebP"),
    (encoded(picture(5, 64), "BMP"), NotAnImage, "not a JPEG, PNG or WebP"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", NotAnImage, "not a JPEG, PNG or WebP"),
    (b"", NotAnImage, "holds no image"),
    (encoded(picture(5, 256), "JPEG")[:2000], BadImage, "truncated"),
    (png_bomb(), BadImage, "megapixels"),
    (png_bomb(7000, 7000), BadImage, "megapixels"),  # 49 MP: over the cap, under Pillow's own limit
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_ASSET_BYTES), ImageTooLarge, "20 MB"),
])
def test_refusals_are_sentences(data, error, words):
    with pytest.raises(error) as refused:
        inspect(data)
    assert words in refused.value.reason and refused.value.reason.endswith(".")
    assert 400 <= refused.value.status_code < 500


def test_the_image_check_is_rate_limited(market, app_settings):  # noqa: F811
    app = create_app(app_settings.model_copy(update={"verify_rate_per_minute": 2}), deployment=fake_deployment(),
                     engine=market.engine)
    image = encoded(picture(6, 64), "PNG")
    with TestClient(app) as client:
        answers = [client.post("/api/v1/verify", content=image).status_code for _ in range(3)]
        refused = client.post("/api/v1/verify", content=image)
    assert answers == [200, 200, 429]
    assert refused.status_code == 429 and "wait" in refused.json()["detail"]
