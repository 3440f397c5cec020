"""A twin's metadata (name, portrait, description) from its URI, without any network request.

Seeded twins point at `/media/twins/<n>.json`, files under the media directory; a twin registered from the web
client carries its metadata in a `data:application/json` URI. Anything else (https, ipfs) is not fetched: the
twin is then shown as "Twin #<id>". Results are cached per URI (a URI's content never changes: a new one is set).
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

MEDIA_URL = "/media/"
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True)
class TwinMetadata:
    name: str | None
    image: str | None
    description: str | None
    agency: str | None
    consent_document: str | None


_EMPTY = TwinMetadata(None, None, None, None, None)


class MetadataResolver:
    def __init__(self, media_dir: Path) -> None:
        self.media_dir = Path(media_dir).resolve()
        self._cache: dict[str, TwinMetadata] = {}
        self._lock = threading.Lock()

    def get(self, uri: str) -> TwinMetadata:
        found = self._cache.get(uri)
        if found is None:
            found = self._resolve(uri)
            with self._lock:
                if len(self._cache) > 100_000:
                    self._cache.clear()
                self._cache[uri] = found
        return found

    def _resolve(self, uri: str) -> TwinMetadata:
        try:
            if uri.startswith(MEDIA_URL):
                data = self._media_json(uri)
            elif uri.startswith("data:"):
                data = _data_uri_json(uri)
            else:
                data = None
        except (OSError, ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return _EMPTY
        agency = None
        for attribute in data.get("attributes") or []:
            if isinstance(attribute, dict) and attribute.get("trait_type") == "Agency":
                agency = _text(attribute.get("value"))
        return TwinMetadata(
            name=_text(data.get("name")),
            image=_safe_url(data.get("image")),
            description=_text(data.get("description"), 2000),
            agency=agency,
            consent_document=_safe_url(data.get("consent_document")),
        )

    def _media_json(self, uri: str) -> object:
        relative = urllib.parse.unquote(uri[len(MEDIA_URL):])
        path = (self.media_dir / relative).resolve()
        if not path.is_relative_to(self.media_dir) or path.suffix != ".json":
            return None
        if path.stat().st_size > MAX_METADATA_BYTES:
            return None
        return json.loads(path.read_text(encoding="utf-8"))


def _data_uri_json(uri: str) -> object:
    header, _, payload = uri.partition(",")
    if not header.startswith("data:application/json") or len(payload) > MAX_METADATA_BYTES * 2:
        return None
    raw = base64.b64decode(payload, validate=True) if header.endswith(";base64") else urllib.parse.unquote(payload).encode()
    return json.loads(raw.decode("utf-8"))


def _text(value: object, limit: int = 200) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] or None


def _safe_url(value: object) -> str | None:
    """Relative URLs of this server, https and images inlined as data URIs; never javascript: or the like."""
    if not isinstance(value, str) or len(value) > 200_000:
        return None
    if value.startswith("/") and not value.startswith("//"):
        return value
    if value.startswith(("https://", "data:image/")):
        return value
    return None
