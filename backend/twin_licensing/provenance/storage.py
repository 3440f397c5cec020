"""Content-addressed storage of use assets: one interface (`put`, `get`, `exists` by SHA-256), a local folder by
default, an S3-compatible bucket when the settings name one (`TWIN_ASSET_S3_BUCKET`).

Keys are the 64 hex digits of the content's SHA-256, so a stored object never changes and storing it twice is a
no-op. The database row (`db/assets.py`) is written after the object is stored: a crash in between leaves an
orphan object, never a row without its object.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from ..errors import ConfigurationError
from ..settings import Settings
from .errors import AssetNotFound

_KEY = re.compile(r"^[0-9a-f]{64}$")


def key_of(sha256: str) -> str:
    key = sha256.lower().removeprefix("0x")
    if not _KEY.match(key):
        raise ValueError(f"not a SHA-256 in hex: {sha256[:80]!r}")
    return key


class AssetStore(Protocol):
    def put(self, sha256: str, data: bytes) -> None: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...


class LocalAssetStore:
    """Files `<root>/<ab>/<abcdef...>`, written to a temporary file and renamed (never half-written)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        key = key_of(sha256)
        return self.root / key[:2] / key

    def put(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise AssetNotFound(f"the image {sha256} is not in the asset store") from None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()


class S3AssetStore:
    """Objects `<prefix><sha256 hex>` in a bucket of any S3-compatible service (boto3; credentials from the usual
    AWS environment variables or files)."""

    def __init__(self, bucket: str, *, prefix: str = "assets/", endpoint_url: str | None = None,
                 region: str | None = None, client=None) -> None:
        import boto3  # only when configured: the local store needs no AWS libraries loaded

        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _key(self, sha256: str) -> str:
        return self.prefix + key_of(sha256)

    def put(self, sha256: str, data: bytes) -> None:
        if not self.exists(sha256):
            self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data)

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise AssetNotFound(f"the image {sha256} is not in the asset store") from None
            raise

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise


def store_from_settings(settings: Settings) -> AssetStore:
    if settings.asset_s3_bucket:
        return S3AssetStore(
            settings.asset_s3_bucket,
            prefix=settings.asset_s3_prefix,
            endpoint_url=settings.asset_s3_endpoint_url,
            region=settings.asset_s3_region,
        )
    if settings.asset_s3_endpoint_url:
        raise ConfigurationError("TWIN_ASSET_S3_ENDPOINT_URL is set but TWIN_ASSET_S3_BUCKET is not: name the bucket")
    return LocalAssetStore(settings.asset_dir)
