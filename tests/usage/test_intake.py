"""Use intake: every refusal with its reason, idempotent reports, gapless sequence numbers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from twin_licensing.db.uses import Use
from twin_licensing.usage import errors
from twin_licensing.chain.hashing import keccak256
from twin_licensing.db.uses import UseCreate
from twin_licensing.usage.intake import UseIntake, parse_report
from kit.uses import (DAY, NORTH_AMERICA, PRINT, SOCIAL, UK, USDC, domain_of, signed_report)


@pytest.fixture
def setup(market, model, agency, brand, chain, engine, sync_index):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=2 * USDC, max_uses=5)
    licence = market.licence(brand, offer, 8 * USDC)  # escrow for 4 uses, max 5 uses
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    return intake, licence, twin


def report(signer, chain, licence, tag, **kw) -> UseCreate:
    kw.setdefault("used_at", chain.timestamp())
    return parse_report(signed_report(signer, domain_of(chain), licence, tag, **kw))


def count_uses(engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Use)).scalar()


def test_accepted_report_gets_the_next_sequence_number(setup, brand, chain):
    intake, licence, _ = setup
    first = intake.submit(report(brand, chain, licence, 1))
    second = intake.submit(report(brand, chain, licence, 2, category=SOCIAL, territory=UK))
    assert first.created and second.created
    assert (first.use.seq, second.use.seq) == (0, 1)
    assert first.use.signer == brand.address and first.use.license_id == licence


def test_same_report_twice_returns_the_same_use(setup, brand, chain, engine):
    intake, licence, _ = setup
    body = report(brand, chain, licence, "same")
    first = intake.submit(body)
    again = intake.submit(body)
    assert first.created and not again.created
    assert again.use.use_id == first.use.use_id and again.use.seq == 0
    assert count_uses(engine) == 1


@pytest.mark.parametrize(
    "mutate, error, words",
    [
        (lambda b: {**b, "signature": "0x" + "11" * 65}, errors.InvalidSignature, "signature"),
        (lambda b: {**b, "signature": b["signature"][:-2] + "1f"}, errors.InvalidSignature, "signature"),
        (lambda b: {**b, "use_ref": "0x" + "00" * 32}, errors.MalformedReport, "use reference"),
        (lambda b: {**b, "use_ref": "0x1234"}, errors.MalformedReport, "64 hex digits"),
        (lambda b: {**b, "category": 9}, errors.MalformedReport, "The usage category must be a number from 0 to 7."),
        (lambda b: {**b, "territory": -1}, errors.MalformedReport, "The territory must be a number from 0 to 7."),
        (lambda b: {**b, "license_id": 2**63}, errors.MalformedReport, "licence id"),
        (lambda b: {**b, "used_at": 0}, errors.MalformedReport, "use time"),
        (lambda b: {k: v for k, v in b.items() if k != "signature"}, errors.MalformedReport, "lacks signature"),
        (lambda b: {**b, "extra": 1}, errors.MalformedReport, 'does not know, "extra"'),
        (lambda b: {**b, "label": "   "}, errors.MalformedReport, "label must be 1 to 200 characters"),
        (lambda b: {**b, "label": "spring campaign"}, errors.MalformedReport, "not the hash of the label"),
        # Behind the API's JSON check too: the label is hashed and stored, which a lone surrogate breaks.
        (lambda b: {**b, "label": "look \ud800"}, errors.MalformedReport, "label contains a broken character"),
        (lambda b: {**b, "seq": True}, errors.MalformedReport, "number within its licence must be a whole number"),
    ],
)
def test_malformed_reports_are_refused(setup, brand, chain, engine, mutate, error, words):
    intake, licence, _ = setup
    body = report(brand, chain, licence, "m").model_dump(exclude_none=True)
    with pytest.raises(error, match=re.escape(words)) as refused:
        intake.submit(parse_report(mutate(body)))
    assert refused.value.reason[0].isupper() and refused.value.reason.endswith(".")
    assert count_uses(engine) == 0


def test_a_label_is_stored_when_the_use_ref_is_its_hash(setup, brand, chain, engine):
    intake, licence, _ = setup
    label = "Spring campaign, look 3"
    body = signed_report(brand, domain_of(chain), licence, "labelled", used_at=chain.timestamp(),
                         ref="0x" + keccak256(label.encode()).hex())
    accepted = intake.submit(parse_report({**body, "label": f"  {label} "}))
    assert accepted.created and accepted.use.label == label
    with Session(engine) as session:
        assert session.get(Use, accepted.use.use_id).label == label


def test_report_with_a_field_changed_after_signing_is_not_the_holders(setup, brand, chain, engine):
    intake, licence, _ = setup
    body = report(brand, chain, licence, "x").model_dump()
    with pytest.raises(errors.NotLicenseHolder, match="sign it with the holder's wallet"):
        intake.submit(parse_report({**body, "used_at": body["used_at"] + 1}))
    assert count_uses(engine) == 0


def test_report_signed_by_someone_else_is_refused(setup, brand2, chain, engine):
    intake, licence, _ = setup
    with pytest.raises(errors.NotLicenseHolder, match=f"held by {chain.call('LicenseToken', 'ownerOf', licence)}"):
        intake.submit(report(brand2, chain, licence, "intruder"))
    assert count_uses(engine) == 0


@pytest.mark.parametrize("other", ["chain", "contract"])
def test_a_report_signed_for_another_chain_or_contract_is_not_the_holders(setup, brand, chain, engine, other):
    from twin_licensing.chain.use_reports import UseReportDomain

    intake, licence, _ = setup
    domain = domain_of(chain)
    elsewhere = (UseReportDomain(domain.chain_id + 1, domain.verifying_contract) if other == "chain"
                 else UseReportDomain(domain.chain_id, "0x" + "42" * 20))
    replayed = signed_report(brand, elsewhere, licence, "replay", seq=0, used_at=chain.timestamp())
    with pytest.raises(errors.NotLicenseHolder, match="for this network and this licence contract"):
        intake.submit(parse_report(replayed))
    assert count_uses(engine) == 0


def test_a_high_s_signature_is_refused(setup, brand, chain, engine):
    """The malleable twin of a valid signature (s -> n - s, v flipped) recovers the same key; wallets never make
    it and the contract refuses it, so the intake does too."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    intake, licence, _ = setup
    body = signed_report(brand, domain_of(chain), licence, "malleable", seq=0, used_at=chain.timestamp())
    raw = bytes.fromhex(body["signature"][2:])
    high_s = (n - int.from_bytes(raw[32:64], "big")).to_bytes(32, "big")
    twin = "0x" + (raw[:32] + high_s + bytes([raw[64] ^ 1])).hex()
    with pytest.raises(errors.InvalidSignature, match="sign the report again"):
        intake.submit(parse_report({**body, "signature": twin}))
    assert intake.submit(parse_report(body)).created


def test_unknown_licence_is_refused(setup, brand, chain, engine):
    intake, licence, _ = setup
    with pytest.raises(errors.UnknownLicense, match=f"There is no licence {licence + 100} on record yet"):
        intake.submit(report(brand, chain, licence + 100, "nope"))


def test_category_and_territory_outside_the_terms_are_refused(setup, brand, chain, engine):
    intake, licence, _ = setup
    with pytest.raises(errors.CategoryNotAllowed, match=r"2 \(print\).*which allows 0 \(e-commerce\), 1 \(social\)"):
        intake.submit(report(brand, chain, licence, "c", category=PRINT))
    with pytest.raises(errors.TerritoryNotAllowed, match=r"North America.*which allows 0 \(Europe\)"):
        intake.submit(report(brand, chain, licence, "t", territory=NORTH_AMERICA))
    assert count_uses(engine) == 0


def test_escrow_counts_uses_not_yet_settled(setup, brand, chain, engine):
    intake, licence, _ = setup
    for tag in range(4):
        intake.submit(report(brand, chain, licence, tag))
    with pytest.raises(errors.InsufficientEscrow) as refused:
        intake.submit(report(brand, chain, licence, "fifth"))
    assert refused.value.reason == (
        f"The escrow of licence {licence} (8.00 USDC) does not cover this use at 2.00 USDC, and 4 reported uses are "
        "still waiting to be paid from it: top up the escrow by at least 2.00 USDC to report it."
    )
    assert count_uses(engine) == 4


def test_refusals_count_in_words_a_brand_reads(market, model, brand, chain, engine, sync_index):
    # One use reported, one more asked: "1 use ... it is", "1 reported use is", never "1 uses" or "1 are".
    twin = market.twin(model)
    capped = market.licence(brand, market.offer(model, twin, per_use_fee=2 * USDC, max_uses=1), 10 * USDC)
    short = market.licence(brand, market.offer(model, twin, per_use_fee=5 * USDC // 2), 3 * USDC)
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    expected = {
        capped: (errors.MaxUsesReached, f"Licence {capped} allows 1 use, and it is reported already (0 settled, 1 "
                 "waiting to be settled): buy a new licence to report more."),
        short: (errors.InsufficientEscrow, f"The escrow of licence {short} (3.00 USDC) does not cover this use at "
                "2.50 USDC, and 1 reported use is still waiting to be paid from it: top up the escrow by at least "
                "2.00 USDC to report it."),
    }
    for licence, (error, sentence) in expected.items():
        intake.submit(report(brand, chain, licence, f"first-{licence}"))
        with pytest.raises(error) as refused:
            intake.submit(report(brand, chain, licence, f"second-{licence}"))
        assert refused.value.reason == sentence


def test_max_uses_counts_uses_not_yet_settled(market, model, brand, chain, engine, sync_index):
    twin = market.twin(model)
    offer = market.offer(model, twin, per_use_fee=2 * USDC, max_uses=2)
    licence = market.licence(brand, offer, 100 * USDC)
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    intake.submit(report(brand, chain, licence, 1))
    intake.submit(report(brand, chain, licence, 2))
    with pytest.raises(errors.MaxUsesReached, match="allows 2 uses"):
        intake.submit(report(brand, chain, licence, 3))


def test_expired_licence_is_refused(setup, brand, chain, engine, sync_index):
    intake, licence, _ = setup
    chain.rpc("evm_increaseTime", [31 * DAY])
    chain.rpc("evm_mine")
    sync_index(engine)  # the index's newest block carries the chain's clock
    with pytest.raises(errors.LicenseExpired, match="buy a new licence"):
        intake.submit(report(brand, chain, licence, "late", used_at=chain.timestamp()))
    assert count_uses(engine) == 0


def test_reports_are_accepted_during_the_notice_period_and_refused_after(setup, brand, model, chain, engine, sync_index):
    intake, licence, twin = setup
    chain.transact(model, "TwinRegistry", "revokeConsent", twin)
    sync_index(engine)
    assert intake.submit(report(brand, chain, licence, "in notice")).created
    chain.rpc("evm_increaseTime", [3 * DAY + 1])
    chain.rpc("evm_mine")
    sync_index(engine)
    with pytest.raises(errors.ConsentRevoked, match="revoked consent"):
        intake.submit(report(brand, chain, licence, "after", used_at=chain.timestamp()))
    assert count_uses(engine) == 1


def test_a_revocation_that_took_effect_ends_the_licence_for_good(setup, brand, model, chain, engine, sync_index):
    """Consent granted again revives no licence alive when the revocation took effect: the contract ended it
    (licenseEnd), so its reports are refused, saying why, instead of accepted and never paid."""
    intake, licence, twin = setup
    chain.transact(model, "TwinRegistry", "revokeConsent", twin)
    chain.rpc("evm_increaseTime", [3 * DAY + 1])
    chain.rpc("evm_mine")
    chain.transact(model, "TwinRegistry", "grantConsent", twin, b"\x07" * 32)
    sync_index(engine)
    with pytest.raises(errors.ConsentRevoked) as refused:
        intake.submit(report(brand, chain, licence, "after the grant", used_at=chain.timestamp()))
    assert refused.value.status_code == 409
    assert f"which ended licence {licence} for good" in refused.value.reason
    assert "consent granted again later does not revive" in refused.value.reason
    assert count_uses(engine) == 0


def test_use_dated_in_the_future_is_refused(setup, brand, chain):
    intake, licence, _ = setup
    with pytest.raises(errors.MalformedReport, match="in the future"):
        intake.submit(report(brand, chain, licence, "f", used_at=chain.timestamp() + 3_600))


def test_licence_whose_earlier_uses_cannot_settle_takes_no_more(setup, brand, chain, engine):
    from twin_licensing.db.submissions import UseRejection

    intake, licence, _ = setup
    intake.submit(report(brand, chain, licence, "held"))
    with Session(engine) as session:
        session.add(UseRejection(chain_id=chain.chain_id, genesis_hash=chain.deployment.genesis_hash,
                                 license_id=licence, from_seq=0, code="LicenseTokenInsufficientEscrow",
                                 reason="the licence's escrow does not cover these uses; top up the escrow"))
        session.commit()
    with pytest.raises(errors.LicenseUnsettleable, match="cannot be settled: .*top up the escrow"):
        intake.submit(report(brand, chain, licence, "more"))
    assert count_uses(engine) == 1


def test_report_on_an_exclusive_licence_the_model_ended_is_refused(market, model, brand, chain, engine, sync_index):
    """Issue 10: the model may end an exclusive licence idle for the period its offer states; the contract then
    settles nothing of it (it expired at that moment), so the intake refuses its reports, saying why."""
    twin = market.twin(model)
    minimum = chain.call("TwinRegistry", "exclusivityMinimum")
    terms = (minimum, 2 * USDC, 90 * DAY, 0, 0b11, 0b11, True, False, 10 * DAY)  # exclusive, 10 days idle
    market.tx(model, "LicenseToken", "publishOffer", twin, terms)
    licence = market.licence(brand, chain.call("LicenseToken", "offerCount"), 20 * USDC)
    chain.rpc("evm_increaseTime", [10 * DAY + 1])
    chain.rpc("evm_mine")
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    assert intake.submit(report(brand, chain, licence, "idle but running")).created  # endable, not ended
    chain.transact(model, "LicenseToken", "endIdleExclusive", licence)
    sync_index(engine)
    with pytest.raises(errors.LicenseEnded, match=r"ended exclusive licence \d+ on .*reclaim its unspent escrow") as no:
        intake.submit(report(brand, chain, licence, "after the end", used_at=chain.timestamp()))
    assert no.value.status_code == 409 and no.value.reason.endswith(".")
    assert count_uses(engine) == 1


# ------------------------------------------------------------------ issue 11: the signed sequence number


def test_the_signed_sequence_number_must_be_the_licences_next(setup, brand, chain, engine):
    intake, licence, _ = setup
    with pytest.raises(errors.SequenceMismatch) as ahead:
        intake.submit(report(brand, chain, licence, "skips ahead", seq=1))
    assert ahead.value.status_code == 409 and ahead.value.expected_seq == 0
    assert ahead.value.fields == {"expected_seq": 0}
    assert ahead.value.reason == (
        f"This report is signed as use #2, but licence {licence} has 0 uses reported so far and numbers cannot be "
        "skipped: sign the report again as use #1."
    )
    assert count_uses(engine) == 0
    assert intake.submit(report(brand, chain, licence, "first", seq=0)).use.seq == 0
    # Another reporter of the same brand signed #1 too, and lost the race: told to sign it again as #2.
    with pytest.raises(errors.SequenceMismatch) as taken:
        intake.submit(report(brand, chain, licence, "raced", seq=0))
    assert taken.value.expected_seq == 1
    assert taken.value.reason.startswith(f"Use #1 of licence {licence} was reported by someone else a moment ago")
    assert taken.value.reason.endswith("sign the report again as use #2.")
    accepted = intake.submit(report(brand, chain, licence, "raced", seq=1))
    assert accepted.created and accepted.use.seq == 1
    assert count_uses(engine) == 2


def test_the_sequence_number_resumes_at_the_chains_settled_count(setup, brand, chain, engine):
    """A database that lost its uses (restored from an old backup): numbering continues where the chain is, so a
    use is never numbered below what the contract will take."""
    from sqlalchemy import update

    from twin_licensing.db.license_state import License
    from twin_licensing.usage.sequence import next_seq

    intake, licence, _ = setup
    with Session(engine) as session:
        session.execute(update(License).where(License.license_id == licence).values(uses_settled=3))
        session.commit()
    with engine.connect() as conn:
        assert next_seq(conn, chain.chain_id, chain.deployment.genesis_hash, licence, 3) == 3
    with pytest.raises(errors.SequenceMismatch) as refused:
        intake.submit(report(brand, chain, licence, "zero", seq=0))
    assert refused.value.expected_seq == 3
    assert intake.submit(report(brand, chain, licence, "three", seq=3)).use.seq == 3
    with engine.connect() as conn:
        assert next_seq(conn, chain.chain_id, chain.deployment.genesis_hash, licence, 3) == 4


def test_a_strangers_signature_on_an_accepted_report_gets_no_use(setup, brand, brand2, chain, engine):
    """The hostile battery's finding: the body of an accepted report, resent with another key's signature, was
    answered with the stored use (the digest short-cut came before the signer check)."""
    intake, licence, _ = setup
    accepted = intake.submit(report(brand, chain, licence, "accepted"))
    body = accepted.use
    stolen = signed_report(brand2, domain_of(chain), licence, None, seq=body.seq, ref=body.use_ref,
                           category=body.category, territory=body.territory, used_at=body.used_at)
    with pytest.raises(errors.NotLicenseHolder, match=f"signed by {brand2.address}, but licence {licence} is held"):
        intake.submit(parse_report(stolen))
    assert count_uses(engine) == 1
    # The holder's own copy is still answered with the stored use.
    again = intake.submit(parse_report({**stolen, "signature": body.signature}))
    assert not again.created and again.use.use_id == body.use_id


@pytest.fixture
def transferred(market, model, brand, brand2, chain, engine, sync_index):
    """A transferable licence that brand bought, reported one use on, and passed to brand2."""
    twin = market.twin(model)
    terms = (10 * USDC, 2 * USDC, 30 * DAY, 0, 0b11, 0b11, False, True, 0)  # transferable
    market.tx(model, "LicenseToken", "publishOffer", twin, terms)
    licence = market.licence(brand, chain.call("LicenseToken", "offerCount"), 20 * USDC)
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    assert intake.submit(report(brand, chain, licence, "before the sale")).created
    market.tx(brand, "LicenseToken", "transferFrom", brand.address, brand2.address, licence)
    sync_index(engine)
    return intake, licence


def test_a_former_holders_report_is_refused_saying_so(transferred, market, brand, brand2, chain, engine, sync_index):
    intake, licence = transferred
    with pytest.raises(errors.FormerHolder) as refused:
        intake.submit(report(brand, chain, licence, "after the sale", seq=1))
    assert refused.value.status_code == 403 and refused.value.code == "former_license_holder"
    assert refused.value.reason.startswith(
        f"This report is signed by {brand.address}, who held licence {licence} before it passed to {brand2.address}"
    )
    assert count_uses(engine) == 1
    # The buyer starts with no escrow (the seller's pays the seller's use #1): her own uses need hers.
    with pytest.raises(errors.InsufficientEscrow, match=r"\(0.00 USDC\) does not cover this use at 2.00 USDC: top"):
        intake.submit(report(brand2, chain, licence, "the buyer's", seq=1))
    market.tx(brand2, "PaymentToken", "faucet", brand2.address, 2 * USDC)
    market.tx(brand2, "PaymentToken", "approve", chain.deployment.license_token, 2 * USDC)
    market.tx(brand2, "LicenseToken", "topUpEscrow", licence, 2 * USDC)
    sync_index(engine)
    assert intake.submit(report(brand2, chain, licence, "the buyer's", seq=1)).created  # the holder's is taken


def _to(chain, at: int) -> None:
    chain.rpc("evm_setNextBlockTimestamp", [at])
    chain.rpc("evm_mine")


def _indexed(engine, chain, table, *key):
    with Session(engine) as session:
        return session.get(table, (chain.chain_id, *key))


def test_a_use_dated_at_the_licences_end_is_refused_and_one_second_before_accepted(setup, brand, chain, engine,
                                                                                  sync_index):
    from twin_licensing.db.license_state import License

    intake, licence, _ = setup
    expiry = _indexed(engine, chain, License, licence).expiry
    _to(chain, expiry - 60)
    sync_index(engine)
    with pytest.raises(errors.UsedAfterEnd) as refused:
        intake.submit(report(brand, chain, licence, "at the end", used_at=expiry, seq=0))
    assert refused.value.status_code == 409
    assert f"when or after licence {licence} ends" in refused.value.reason
    assert refused.value.reason.endswith("check the date of the use.")
    assert intake.submit(report(brand, chain, licence, "just in time", used_at=expiry - 1, seq=0)).created


@pytest.mark.parametrize("whole_twin", [True, False], ids=["consent", "category"])
def test_a_use_dated_at_a_pending_revocations_effective_time_is_refused(setup, brand, model, chain, engine,
                                                                        sync_index, whole_twin):
    from twin_licensing.db.registry_state import Twin
    from twin_licensing.domain import category_consent

    intake, licence, twin = setup
    if whole_twin:
        chain.transact(model, "TwinRegistry", "revokeConsent", twin)
    else:
        chain.transact(model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL)
    sync_index(engine)
    indexed = _indexed(engine, chain, Twin, twin)
    effective_at = (indexed.revocation_effective_at if whole_twin
                    else category_consent.parse(indexed.category_revocations)[SOCIAL])
    assert effective_at > chain.timestamp()
    _to(chain, effective_at - 60)
    sync_index(engine)
    words = "revocation of consent for this twin" if whole_twin else "withdrawal of usage category 1 (social)"
    with pytest.raises(errors.UsedAfterEnd, match=re.escape(words)):
        intake.submit(report(brand, chain, licence, "at the end", used_at=effective_at, seq=0, category=SOCIAL))
    assert intake.submit(report(brand, chain, licence, "in time", used_at=effective_at - 1, seq=0,
                                category=SOCIAL)).created
