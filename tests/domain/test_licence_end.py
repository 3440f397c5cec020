"""A licence's end (`domain.licence_end`), as `LicenseLedger.licenseEnd` computes it."""

from __future__ import annotations

from twin_licensing.domain.licence_end import category_ends_from, dump_consent_ends, licence_end, parse_consent_ends

START, EXPIRY = 1_000, 10_000


def test_expiry_and_whole_twin_revocations():
    assert licence_end(EXPIRY, START) == EXPIRY
    assert licence_end(EXPIRY, START, 5_000) == 5_000  # the current revocation, pending or in effect
    assert licence_end(EXPIRY, START, 20_000) == EXPIRY
    # A past revocation that took effect after the purchase ended it for good; one before the purchase did not.
    assert licence_end(EXPIRY, START, 0, "500,4000,6000") == 4_000
    assert licence_end(EXPIRY, START, 0, "500") == EXPIRY
    assert parse_consent_ends(dump_consent_ends([6_000, 4_000])) == [4_000, 6_000]


def test_a_licence_ends_when_all_its_categories_are_revoked():
    both = 0b11
    # One of two categories revoked: the licence goes on (that category's uses stop, not the licence).
    assert licence_end(EXPIRY, START, categories=both, category_revocations={0: 3_000}) == EXPIRY
    # Both: it ends when the last of them ends.
    assert licence_end(EXPIRY, START, categories=both, category_revocations={0: 3_000, 1: 7_000}) == 7_000
    # A past revocation of a category (granted again since) counts for that category, the first after the purchase.
    assert licence_end(EXPIRY, START, categories=both, category_revocations={1: 7_000},
                       category_ends={0: [500, 2_000, 9_000]}) == 7_000
    assert licence_end(EXPIRY, START, categories=both, category_revocations={1: 2_500},
                       category_ends={0: [500, 2_000]}) == 2_500
    # The earliest of all ends applies.
    assert licence_end(EXPIRY, START, 1_500, categories=both, category_revocations={0: 3_000, 1: 7_000}) == 1_500
    # A category revoked only before the purchase (ended then) does not end it.
    assert licence_end(EXPIRY, START, categories=0b1, category_ends={0: [800]}) == EXPIRY


def test_category_ends_from_the_consent_history():
    changes = [
        (0, 2_000, 1_000),  # category 0 revoked at 1 000, effective 2 000
        (0, None, 1_500),  # granted again before it took effect: it ended nothing
        (0, 4_000, 3_000),
        (0, None, 5_000),  # granted again after it took effect: an end at 4 000
        (1, 6_000, 5_500),  # category 1 revoked, still revoked: not a past end
    ]
    assert category_ends_from(changes) == {0: [4_000]}
