"""Issue 13 through the API on the session's chain: an image attached to a signed use, who may fetch it, its
credentialed copy verified as pending then paid, and every way a check or an upload can go wrong (altered, another
issuer, another licence's use, a category outside the licence, chain 1, a stripped copy, an unrelated image,
oversized, truncated, non-image and bomb uploads: 4xx, nothing stored)."""

from __future__ import annotations

import io
from argparse import Namespace
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlmodel import Session

from twin_licensing.api.app import create_app
from twin_licensing.commands import verify_image
from twin_licensing.chain.settlement import SettlementClient
from twin_licensing.db.assets import Asset, AssetUse, UnlicensedReport
from twin_licensing.provenance.certificates import identity_from, load_identity, make_ca, make_signer
from twin_licensing.provenance.credentials import UseClaim, sign_copy
from twin_licensing.provenance.images import sha256_hex
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from kit.images import encoded, picture, png_bomb, png_with_pixel_changed, stripped_copy
from kit.signin import sign_in
from kit.uses import PRINT, USDC, backend_env, domain_of, signed_report

API = "/api/v1"


@pytest.fixture
def licences(market, model, agency, brand):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=2 * USDC)  # e-commerce and social, Europe and UK
    return market.licence(brand, offer, 20 * USDC), market.licence(brand, offer, 20 * USDC)


@pytest.fixture
def system(index_settings, deployment, engine, licences, sync_index):
    sync_index(engine)
    app = create_app(index_settings, deployment=deployment, engine=engine)
    with TestClient(app) as anonymous, TestClient(app) as holder:
        yield anonymous, holder


def report(client, brand, chain, licence, image: bytes, **kw) -> dict:
    body = signed_report(brand, domain_of(chain), licence, None, ref=sha256_hex(image), used_at=chain.timestamp(), **kw)
    answer = client.post(f"{API}/uses", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def stored(engine, index_settings) -> tuple[int, int, int]:
    with Session(engine) as session:
        rows = tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (Asset, AssetUse))
    files = sum(1 for p in index_settings.asset_dir.rglob("*") if p.is_file()) if index_settings.asset_dir.exists() else 0
    return (*rows, files)


def verdict(client, data: bytes) -> dict:
    answer = client.post(f"{API}/verify", content=data, headers={"Content-Type": "image/png"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["sentence"][0].isupper() and body["sentence"].endswith("."), body["sentence"]
    return body


def test_image_use_from_upload_to_paid_credential(system, brand, brand2, model, agency, guild, chain, licences, engine, recorder,
                                                   index_settings, sync_index, tmp_path, monkeypatch, capsys):
    anonymous, holder = system
    first, second = licences
    sign_in(holder, brand.key)
    image = encoded(picture(11), "PNG")
    use = report(holder, brand, chain, first, image)
    assert use["asset"] is False

    # Uploads that must be refused, with nothing stored.
    url = f"{API}/uses/{use['id']}/asset"
    other = encoded(picture(12), "PNG")
    refusals = [
        (anonymous, other, "image/png", 404),  # not the signed bytes, and the sender cannot see the use
        (holder, other, "image/png", 409),  # the holder is told why
        (holder, b"%PDF-1.7 not an image at all" * 10, "image/png", 415),  # a lying content type
        (holder, image[: len(image) // 2], "image/png", 422),  # truncated
        (holder, png_bomb(), "image/png", 422),  # 900 megapixels in a few kilobytes
        (holder, b"\xff\xd8" + b"\0" * (20 * 1024 * 1024 + 10), "image/jpeg", 413),  # over 20 MB
    ]
    for client, body, kind, status in refusals:
        answer = client.post(url, content=body, headers={"Content-Type": kind})
        assert answer.status_code == status, (status, answer.text)
        assert answer.json()["detail"].endswith("."), answer.text
    assert stored(engine, index_settings) == (0, 0, 0)

    # The signed bytes are attached by whoever has them (here anonymously), once.
    attached = anonymous.post(url, content=image, headers={"Content-Type": "application/octet-stream"})
    assert attached.status_code == 201, attached.text
    asset = attached.json()
    assert (asset["sha256"], asset["media_type"], asset["width"], asset["use_ids"]) == (
        use["use_ref"], "image/png", 256, [use["id"]])
    assert anonymous.post(url, content=image).status_code == 200
    assert stored(engine, index_settings) == (1, 1, 1)
    assert holder.get(f"{API}/uses/{use['id']}").json()["asset"] is True

    # Who may fetch it: the holder, the twin's model and payees, the guild; not another brand, not anonymously.
    for who, status in ((model, 200), (agency, 200), (guild, 200), (brand2, 404)):
        with TestClient(anonymous.app) as other:
            sign_in(other, who.key)
            assert other.get(f"{url}/thumbnail").status_code == status, who.address
            if who is model:  # her usage log says which uses carry an image
                log = other.get(f"{API}/usage-log").json()["data"]
                assert [(e["id"], e["asset"]) for e in log] == [(use["id"], True)]
    assert anonymous.get(url).status_code == 404
    assert holder.get(url).content == image
    thumb = Image.open(io.BytesIO(holder.get(f"{url}/thumbnail").content))
    assert thumb.format == "JPEG" and max(thumb.size) <= 256
    credentialed = holder.get(f"{url}/credentialed")
    assert credentialed.status_code == 200 and credentialed.headers["content-type"] == "image/png"
    signed = credentialed.content
    assert anonymous.get(f"{url}/credentialed").status_code == 404

    pending = verdict(anonymous, signed)
    assert (pending["verdict"], pending["use"]["use_id"], pending["credential"]["ai_generated"]) == (
        "licensed_pending", use["id"], True)
    assert f"licence {first}" in pending["sentence"]
    # A use is named as the licence page names it: "use #N" counting from 1, while the API's seq counts from 0.
    assert f"use #{pending['use']['seq'] + 1} of licence {first}" in pending["sentence"], pending["sentence"]

    settler = Settler(engine, SettlementClient(chain, recorder), SettlerConfig(window_s=0.0))
    settler.reconcile()
    assert settler.step().uses == 1
    sync_index(engine)
    paid = verdict(anonymous, signed)
    assert paid["verdict"] == "licensed_paid" and paid["use"]["proof_checked"] is True
    assert paid["use"]["tx_hash"] and paid["use"]["tx_hash"] in paid["sentence"]

    altered = verdict(anonymous, png_with_pixel_changed(signed))
    assert (altered["verdict"], altered["reason"]) == ("credential_invalid", "altered")

    ca_key, ca_cert = make_ca("Not the operator")
    key, cert = make_signer(ca_key, ca_cert, "Someone else")
    claim = UseClaim.from_assertion(paid["credential"]["claim"])
    foreign = sign_copy(identity_from(ca_cert, key, cert), image, "image/png", claim, "forged")
    assert (verdict(anonymous, foreign)["verdict"], verdict(anonymous, foreign)["reason"]) == (
        "credential_invalid", "untrusted_issuer")

    # Manifests signed with the operator's own key that name what the licence does not cover.
    ours = load_identity(index_settings, local_chain=True)
    other_use = report(holder, brand, chain, second, encoded(picture(13), "PNG"))
    crafted = {
        "use_mismatch": replace(claim, report_digest=other_use["digest"]),  # another licence's use
        "category": replace(claim, category=PRINT),  # outside the licence's categories
        "other_chain": replace(claim, chain_id=1),
        "unknown_use": replace(claim, seq=99),
    }
    for reason, fake in crafted.items():
        answer = verdict(anonymous, sign_copy(ours, image, "image/png", fake, "crafted"))
        assert (answer["verdict"], answer["reason"]) == ("outside_licence", reason), answer

    # Without a credential: the nearest licensed image by perceptual hash, or no match.
    copy = verdict(anonymous, stripped_copy(signed, scale=0.6, quality=70))
    assert (copy["verdict"], copy["reason"]) == ("no_credential", "likely_derived")
    assert copy["match"]["sha256"] == use["use_ref"] and copy["use"]["use_id"] == use["id"]
    unrelated = verdict(anonymous, encoded(picture(999), "JPEG", quality=90))
    assert (unrelated["verdict"], unrelated["reason"], unrelated["match"]) == ("no_credential", "no_licensed_match", None)

    # Bad checks are 4xx with a sentence.
    for body, status in ((b"hello", 415), (png_bomb(), 422), (image[:300], 422)):
        answer = anonymous.post(f"{API}/verify", content=body, headers={"Content-Type": "image/png"})
        assert answer.status_code == status, answer.text
    huge = anonymous.post(f"{API}/verify", content=b"", headers={"Content-Length": str(200 * 1024 * 1024)})
    assert huge.status_code == 413

    # Reporting an unlicensed use: anyone; the list: the guild only.
    filed = anonymous.post(f"{API}/unlicensed-uses", files={"file": ("found.jpg", encoded(picture(999), "JPEG"))},
                           data={"note": "Seen on a billboard in Lyon"})
    assert filed.status_code == 201, filed.text
    assert filed.json()["sha256"] == unrelated["image"]["sha256"] or filed.json()["phash"]
    assert anonymous.post(f"{API}/unlicensed-uses", files={"file": ("x.png", b"nope")},
                          data={"note": "x"}).status_code == 415
    assert anonymous.get(f"{API}/unlicensed-uses").status_code == 404
    with TestClient(anonymous.app) as guild_client:
        sign_in(guild_client, guild.key)
        listed = guild_client.get(f"{API}/unlicensed-uses").json()
    assert listed["total"] == 1 and listed["items"][0]["note"] == "Seen on a billboard in Lyon"
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(UnlicensedReport)).scalar_one() == 1

    # The console says the same: exit 0 for licensed, 1 otherwise, 2 for a file it cannot check.
    for name, value in backend_env(index_settings).items():
        monkeypatch.setenv(name, value)
    files = {"signed.png": signed, "other.jpg": encoded(picture(999), "JPEG"), "notes.txt": b"not an image"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    capsys.readouterr()
    codes = [verify_image.run(Namespace(file=tmp_path / name, json=False, rpc_url=None)) for name in files]
    assert codes == [0, 1, 2]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == paid["sentence"] and lines[1] == unrelated["sentence"]
    assert len(lines) == 3 and "not a JPEG, PNG or WebP" in lines[2]
