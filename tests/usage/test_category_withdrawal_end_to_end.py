"""Consent per usage category, end to end (issue 12): the model withdraws one category of her twin; after the notice
its new uses are refused at intake, the licence's other categories go on settling, a use of it signed in the notice
but not settled by then is still paid within the grace after it (issue 11), and the audit agrees with all of it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from twin_licensing.audit.compare import audit
from twin_licensing.db.registry_state import Twin
from twin_licensing.db.submissions import SettleSubmissionItem, UseRejection
from twin_licensing.db.uses import Use
from twin_licensing.domain import category_consent
from twin_licensing.settlement.config import SettlerConfig
from twin_licensing.settlement.settler import Settler
from twin_licensing.usage import errors
from twin_licensing.usage.intake import UseIntake, parse_report
from kit.uses import DAY, ECOMMERCE, SOCIAL, USDC, domain_of, signed_report, submit_report

NOW = SettlerConfig(window_s=0.0, poll_s=0.01, recheck_rejections_s=0.0)
NOTICE = 3 * DAY  # the registry's default, which the twin's consent keeps


def report(signer, chain, licence, tag, category):
    return parse_report(signed_report(signer, domain_of(chain), licence, tag, category=category,
                                      used_at=chain.timestamp()))


def uses_of(engine, licence: int) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Use).where(Use.license_id == licence)).scalar()


def test_a_withdrawn_category_stops_after_notice_and_the_others_settle(
        market, model, agency, brand, brand2, chain, engine, sync_index, settlement_client):
    twin = market.twin(model, agency)
    offer = market.offer(model, twin, per_use_fee=2 * USDC)  # e-commerce and social
    first, second = market.licence(brand, offer, 100 * USDC), market.licence(brand2, offer, 100 * USDC)
    sync_index(engine)
    intake = UseIntake(engine, domain_of(chain), chain.deployment.genesis_hash)
    settler = Settler(engine, settlement_client, NOW)
    settler.reconcile()

    intake.submit(report(brand, chain, first, "shop", ECOMMERCE))
    intake.submit(report(brand, chain, first, "feed", SOCIAL))
    assert settler.step().uses == 2

    chain.transact(model, "TwinRegistry", "revokeCategoryConsent", twin, SOCIAL)
    sync_index(engine)
    with Session(engine) as session:
        revocations = category_consent.parse(session.get(Twin, (chain.chain_id, twin)).category_revocations)
    effective_at = chain.call("TwinRegistry", "categoryConsentOf", twin, SOCIAL)[1]
    assert revocations == {SOCIAL: effective_at} and effective_at - chain.timestamp() <= NOTICE
    # During the notice social uses are still accepted and paid; one of the second licence waits unsettled.
    intake.submit(report(brand, chain, first, "feed in notice", SOCIAL))
    assert settler.step().uses == 1
    intake.submit(report(brand2, chain, second, "late feed", SOCIAL))

    chain.rpc("evm_increaseTime", [NOTICE + 1])
    chain.rpc("evm_mine")
    sync_index(engine)
    with pytest.raises(errors.CategoryConsentRevoked) as refused:
        intake.submit(report(brand, chain, first, "feed after", SOCIAL))
    assert refused.value.status_code == 409
    assert refused.value.reason.startswith("The model withdrew her consent to usage category 1 (social) for this twin")
    assert refused.value.reason.endswith("report only uses in the licence's other categories.")
    assert uses_of(engine, first) == 3  # nothing stored

    # E-commerce goes on: accepted and settled. The late social use of the second licence was signed before the
    # withdrawal took effect, so it is paid within the grace after it (issue 11), in the same batch.
    # (The refused report's number was not taken: the client signs it again as the next one.)
    submit_report(intake, brand, domain_of(chain), first, "shop after", category=ECOMMERCE, used_at=chain.timestamp())
    result = settler.step()
    assert result.succeeded and result.uses == 2
    assert (market.settled(first), market.settled(second)) == (4, 1)
    with Session(engine) as session:
        assert session.execute(select(UseRejection)).scalars().all() == []
        masks = session.execute(select(SettleSubmissionItem.categories).order_by(SettleSubmissionItem.id)).scalars()
        assert sorted(masks) == sorted([1 << ECOMMERCE | 1 << SOCIAL, 1 << SOCIAL, 1 << ECOMMERCE, 1 << SOCIAL])

    sync_index(engine)
    report_ = audit(chain, engine, from_block=chain.deployment.block_number)
    assert report_.ok, [*report_.differences, *report_.problems]
    assert report_.uses_proven == 5 and report_.uses_pending == 0
    (row,) = [r for r in report_.rows if r.check == "social revoked, effective"]
    assert row.events == row.contract == row.database == effective_at
