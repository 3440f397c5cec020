"""The asset store's contract, on the local folder and on an S3-compatible server (moto's, on 127.0.0.1): what is
put is got back byte for byte, exists says so, a missing key is a 404-worthy AssetNotFound, and keys are SHA-256s
only (no path tricks)."""

from __future__ import annotations

import hashlib

import pytest

from twin_licensing.provenance.errors import AssetNotFound
from twin_licensing.provenance.storage import LocalAssetStore, S3AssetStore, store_from_settings
from twin_licensing.settings import get_settings


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch):
    if request.param == "local":
        return store_from_settings(get_settings(var_dir=tmp_path))
    endpoint = request.getfixturevalue("s3_endpoint")
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    settings = get_settings(var_dir=tmp_path, asset_s3_bucket=f"assets-{tmp_path.name[-8:].lower()}",
                            asset_s3_endpoint_url=endpoint, asset_s3_region="us-east-1")
    s3 = store_from_settings(settings)
    assert isinstance(s3, S3AssetStore)
    s3.client.create_bucket(Bucket=settings.asset_s3_bucket)
    return s3


def test_put_get_exists(store):
    data = b"\x89PNG fake image bytes" * 100
    key = "0x" + hashlib.sha256(data).hexdigest()
    assert not store.exists(key)
    with pytest.raises(AssetNotFound):
        store.get(key)
    store.put(key, data)
    store.put(key, data)  # idempotent
    assert store.exists(key) and store.get(key) == data
    assert store.exists(key.upper().replace("0X", "0x")) and store.get(key[2:]) == data


@pytest.mark.parametrize("bad", ["../../etc/passwd", "0x1234", "zz" * 32, ""])
def test_keys_are_sha256_only(store, bad):
    with pytest.raises(ValueError):
        store.put(bad, b"x")


def test_local_is_the_default_and_writes_under_var(tmp_path):
    store = store_from_settings(get_settings(var_dir=tmp_path))
    assert isinstance(store, LocalAssetStore) and store.root == tmp_path / "assets"
