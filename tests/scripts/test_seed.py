"""The demo seed: 30 twins from 30 models, payees summing to 10 000 bps, offers meeting the guild's floors,
portraits and metadata on disk, funded brands, labelled accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from twin_licensing.chain.client import Chain, keccak
from twin_licensing.chain.deployment import Deployment, read_account_labels
from twin_licensing.errors import SeedError
from twin_licensing.seed import SeedResult, seed
from twin_licensing.seed import data

MODEL, AGENCY, CREW = 0, 1, 2


@pytest.fixture(scope="module")
def seeded(chain: Chain, deployment: Deployment, deployments_dir: Path, tmp_path_factory) -> Iterator[tuple[SeedResult, Path]]:
    """Seeds once for this module inside its own snapshot, so other modules still see a bare deployment."""
    snapshot = chain.rpc("evm_snapshot")
    media = tmp_path_factory.mktemp("media")
    try:
        yield seed(chain, deployment, media_dir=media, deployments_dir=deployments_dir), media
    finally:
        chain.rpc("evm_revert", [snapshot])
        chain.resync_nonces()


def test_thirty_twins_from_thirty_distinct_models(seeded, chain: Chain, models) -> None:
    result, _ = seeded
    assert chain.call("TwinRegistry", "twinCount") == 30
    assert len(result.twins) == 30
    owners = [chain.call("TwinRegistry", "modelOf", twin.twin_id) for twin in result.twins]
    assert len(set(owners)) == 30
    assert set(owners) == {m.address for m in models}
    assert all(chain.call("TwinRegistry", "locked", twin.twin_id) for twin in result.twins)


def test_payees_sum_to_10000_with_the_model_first_and_agency_within_cap(seeded, chain: Chain, agencies, crew) -> None:
    result, _ = seeded
    cap = chain.call("TwinRegistry", "agencyCap")
    agency_addresses = {a.address for a in agencies}
    twins_with_crew = 0
    for twin in result.twins:
        payees = chain.call("TwinRegistry", "payeesOf", twin.twin_id)
        assert sum(share for _, share, _ in payees) == 10_000
        assert payees[0] == (twin.model, payees[0][1], MODEL)
        agency = [p for p in payees if p[2] == AGENCY]
        assert len(agency) == 1 and agency[0][0] in agency_addresses
        assert 1_000 <= agency[0][1] <= min(2_000, cap)
        twins_with_crew += any(p[2] == CREW for p in payees)
        assert {p[0] for p in payees if p[2] == CREW} <= {c.address for c in crew}
    assert 0 < twins_with_crew < 30


def test_models_and_agencies_are_attested_and_payees_accepted(seeded, chain: Chain, agencies, crew) -> None:
    result, _ = seeded
    for agency in agencies:
        assert chain.call("TwinRegistry", "isAttested", agency.address, AGENCY)
    for twin in result.twins:
        attestation_id = chain.call("TwinRegistry", "twinAttestation", twin.twin_id)
        subject, role, issued_at, expires_at, revoked = chain.call("TwinRegistry", "attestation", attestation_id)
        assert (subject, role, revoked) == (twin.model, MODEL, False)
        assert expires_at - issued_at >= data.ATTESTATION_VALIDITY - 60
        for account, _, _ in chain.call("TwinRegistry", "payeesOf", twin.twin_id):
            assert chain.call("TwinRegistry", "isPayeeAccepted", twin.twin_id, account)
            assert twin.twin_id in chain.call("TwinRegistry", "twinsOfPayee", account)
    assert chain.call("TwinRegistry", "attestationCount") == 30 + len(agencies)
    assert not any(chain.call("TwinRegistry", "isAttested", c.address, AGENCY) for c in crew)


def test_floors_are_set_for_all_eight_categories(seeded, chain: Chain) -> None:
    floors = [chain.call("TwinRegistry", "categoryFloor", category) for category in range(8)]
    assert floors == [data.CATEGORY_FLOORS[c] for c in range(8)]
    assert all(floor > 0 for floor in floors)


def test_offers_are_varied_and_meet_the_floors(seeded, chain: Chain) -> None:
    result, _ = seeded
    offers = []
    for twin in result.twins:
        assert 1 <= len(twin.offer_ids) <= 3
        for offer_id in twin.offer_ids:
            twin_id, active, terms = chain.call("LicenseToken", "offer", offer_id)
            upfront, per_use, duration, max_uses, categories, territories, exclusive, transferable, idle = terms
            assert twin_id == twin.twin_id and active
            assert per_use >= chain.call("TwinRegistry", "floorFor", categories)
            if exclusive:  # bought as they are: the guild's exclusivity minimum and a stated idle period
                assert upfront >= chain.call("TwinRegistry", "exclusivityMinimum") and idle == data.EXCLUSIVE_IDLE_END_AFTER
            else:
                assert idle == 0
            assert duration > 0 and categories and territories
            offers.append(terms)
    assert chain.call("LicenseToken", "offerCount") == len(offers) == result.offers
    assert 1 <= sum(o[6] for o in offers) <= 2, "one or two exclusive offers"
    assert any(o[7] for o in offers) and not all(o[7] for o in offers), "some transferable"
    assert len({o[4] for o in offers}) >= 4 and len({o[5] for o in offers}) >= 4
    assert len({o[2] for o in offers}) >= 3 and len({o[3] for o in offers}) >= 4


def test_brands_are_funded(seeded, chain: Chain, brands) -> None:
    for brand in brands:
        assert chain.call("PaymentToken", "balanceOf", brand.address) == data.BRAND_FUNDING


def test_metadata_portraits_and_consent_documents_are_written(seeded, chain: Chain) -> None:
    result, media = seeded
    for twin in result.twins:
        assert twin.uri == f"/media/twins/{twin.number}.json"
        assert chain.call("TwinRegistry", "tokenURI", twin.twin_id) == twin.uri
        metadata = json.loads((media / "twins" / f"{twin.number}.json").read_text())
        assert metadata["name"] == twin.name
        assert metadata["image"] == f"/media/twins/{twin.number}.svg"
        svg = (media / "twins" / f"{twin.number}.svg").read_text()
        assert svg.startswith("<svg") and twin.name in svg
        document = (media / "consent" / f"{twin.number}.txt").read_text()
        on_chain = chain.call("TwinRegistry", "consentOf", twin.twin_id)
        assert metadata["consent_hash"] == keccak(document) == "0x" + on_chain[2].hex()


def test_portraits_are_deterministic(seeded, tmp_path_factory) -> None:
    from twin_licensing.seed.portraits import portrait_svg

    assert portrait_svg("Ava Lindqvist") == portrait_svg("Ava Lindqvist") != portrait_svg("Mei Tanaka")


def test_accounts_are_labelled_for_people(seeded, deployment: Deployment, deployments_dir: Path, models) -> None:
    labels = read_account_labels(deployments_dir, deployment.chain_id)
    assert len(labels) == 48 and len({label.address for label in labels}) == 48
    by_address = {label.address: label for label in labels}
    assert by_address[models[0].address].role == "model"
    assert by_address[models[0].address].name == "Ava Lindqvist"
    roles = [label.role for label in labels]
    assert roles.count("model") == 30 and roles.count("brand") == 5 and roles.count("agency") == 4
    assert {"admin", "guild", "recorder", "crew"} <= set(roles)
    sections = json.loads((deployments_dir / f"{deployment.chain_id}.accounts.json").read_text())
    assert sections["categories"][7] == "AI-generated campaign" and len(sections["territories"]) == 8


def test_seeding_twice_is_refused(seeded, chain: Chain, deployment: Deployment, deployments_dir: Path, tmp_path) -> None:
    with pytest.raises(SeedError, match="already has 30 twins"):
        seed(chain, deployment, media_dir=tmp_path, deployments_dir=deployments_dir)


def test_seed_is_fast(seeded) -> None:
    result, _ = seeded
    assert result.seconds < 20, f"seeding took {result.seconds:.1f} s"
