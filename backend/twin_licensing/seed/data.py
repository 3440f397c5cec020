"""The demo cast and catalogue: who holds which development account, the guild's floors, and the 30 twins.

Plain data only, so that the web client, the tests and the seeding logic agree on the same names. The vocabulary
it uses (categories, territories, basis points, the token's unit) is the project's, from `twin_licensing.domain`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.money import UNIT as USDC  # every amount here is in micro-units of the 6-decimal payment token
from ..domain.shares import BPS
from ..domain.vocabulary import AGENCY, MODEL, mask
from ..domain.vocabulary import CREW as CREW_ROLE  # CREW below is the crew members

DAY = 24 * 3600

# Guild minimum per-use fees. Wider reach pays more, as day rates do: a social post < a print page < a video
# < a billboard < a TV spot. A fully AI-generated campaign replaces a whole shoot, hence its high floor.
CATEGORY_FLOORS = {
    0: 2 * USDC,  # e-commerce product image
    1: 3 * USDC // 2,  # social post
    2: 5 * USDC,  # print
    3: 12 * USDC,  # video
    4: 15 * USDC,  # out-of-home
    5: 30 * USDC,  # broadcast
    6: 3 * USDC,  # editorial
    7: 20 * USDC,  # AI-generated campaign
}


# ------------------------------------------------------------------ the account map (hardhat.config.js: 48)

ADMIN, GUILD, RECORDER = 0, 1, 2  # index 0 also deploys


@dataclass(frozen=True)
class Agency:
    index: int  # development account
    name: str
    city: str


AGENCIES = (
    Agency(3, "Nordlys Models", "Stockholm"),
    Agency(4, "Atelier Talent", "Paris"),
    Agency(5, "Meridian Model Management", "New York"),
    Agency(6, "Kinto Agency", "Tokyo"),
)


@dataclass(frozen=True)
class Crew:
    index: int
    name: str
    craft: str


CREW = (
    Crew(42, "Jonas Ek", "photographer"),
    Crew(43, "Rina Osei", "stylist"),
    Crew(44, "Marco Ferri", "hair stylist"),
    Crew(45, "Léa Moreau", "make-up artist"),
    Crew(46, "Tomás Ruiz", "photographer"),
    Crew(47, "Aiko Mori", "make-up artist"),
)


@dataclass(frozen=True)
class Brand:
    index: int
    name: str


BRANDS = (
    Brand(37, "Maison Verre"),
    Brand(38, "Northwind Apparel"),
    Brand(39, "Lumen Athletics"),
    Brand(40, "Sable & Co."),
    Brand(41, "Kaze Studio"),
)
BRAND_FUNDING = 1_000_000 * USDC  # one faucet call each (the faucet's per-call limit)


MODEL_NAMES = (
    "Ava Lindqvist",
    "Amara Okafor",
    "Mei Tanaka",
    "Sofia Márquez",
    "Leila Haddad",
    "Ingrid Solberg",
    "Zara Ahmed",
    "Chloé Dubois",
    "Nia Mensah",
    "Priya Raman",
    "Elena Petrova",
    "Yuki Sato",
    "Camila Reyes",
    "Freya Hansen",
    "Malik Johnson",
    "Hana Kim",
    "Isabela Costa",
    "Saoirse Byrne",
    "Adaeze Nwosu",
    "Lucia Romano",
    "Noor Al-Sayed",
    "Maja Kowalska",
    "Luca Bianchi",
    "Tamar Levi",
    "Thandiwe Dlamini",
    "Kenji Watanabe",
    "Rosa Jiménez",
    "Eun-ji Park",
    "Olivia Bennett",
    "Aroha Ngata",
)
FIRST_MODEL_INDEX = 7  # models hold development accounts 7 .. 36
MODEL_INDICES = tuple(range(FIRST_MODEL_INDEX, FIRST_MODEL_INDEX + len(MODEL_NAMES)))

assert len(MODEL_NAMES) == 30
assert MODEL_INDICES[-1] < BRANDS[0].index and BRANDS[-1].index < CREW[0].index and CREW[-1].index < 48


# ------------------------------------------------------------------ twins and their offers


@dataclass(frozen=True)
class OfferPlan:
    label: str
    upfront_fee: int
    per_use_fee: int
    duration: int  # seconds
    max_uses: int  # 0 = unlimited
    categories: int
    territories: int
    exclusive: bool = False
    transferable: bool = False
    idle_end_after: int = 0  # seconds; exclusive offers only: unused that long, the model may end the licence

    def terms(self) -> tuple[int, int, int, int, int, int, bool, bool, int]:
        """The on-chain `OfferTerms` tuple, in the struct's field order."""
        return (
            self.upfront_fee,
            self.per_use_fee,
            self.duration,
            self.max_uses,
            self.categories,
            self.territories,
            self.exclusive,
            self.transferable,
            self.idle_end_after,
        )


@dataclass(frozen=True)
class PayeePlan:
    index: int  # development account
    share_bps: int
    role: int  # MODEL, AGENCY or CREW (TwinTypes.PayeeRole)


@dataclass(frozen=True)
class TwinPlan:
    number: int  # 1..30: names the media files (/media/twins/<number>.json)
    name: str
    model_index: int
    agency: Agency
    payees: tuple[PayeePlan, ...]
    offers: tuple[OfferPlan, ...]


# (label, categories, floor multipliers, upfront range in USDC, duration in days, max-uses choices)
_TEMPLATES = (
    ("E-commerce & social", mask(0, 1), (1.0, 1.25, 1.5, 2.0), (250, 1_500), 90, (0, 500, 1_000, 2_000)),
    ("Print & editorial", mask(2, 6), (1.0, 1.2, 1.6), (1_000, 5_000), 180, (50, 100, 200)),
    ("Video & out-of-home campaign", mask(3, 4), (1.0, 1.3, 2.0), (5_000, 15_000), 120, (20, 40, 60)),
    ("Broadcast", mask(3, 5), (1.0, 1.5), (10_000, 25_000), 365, (10, 25)),
    ("AI-generated campaign", mask(0, 1, 7), (1.0, 1.25, 1.75), (8_000, 20_000), 180, (100, 250)),
)
_TERRITORY_SETS = (
    0xFF,  # worldwide
    mask(0, 1),  # Europe with the UK
    mask(2),  # North America
    mask(2, 3),  # the Americas
    mask(4, 5),  # Asia
    mask(0, 1, 6),  # EMEA
    mask(4, 5, 7),  # Asia-Pacific
)
_EXCLUSIVE_TWINS = (4, 17)  # two twins sell one exclusive campaign
EXCLUSIVE_IDLE_END_AFTER = 30 * DAY  # an exclusive licence unused for a month can be ended by the model
ATTESTATION_VALIDITY = 365 * DAY  # the guild attests the demo's models and agencies for a year from seeding


def floor_of(categories: int) -> int:
    """The guild floor an offer over `categories` must meet: the highest of its categories' floors."""
    return max(fee for bit, fee in CATEGORY_FLOORS.items() if categories >> bit & 1)


def _round_fee(amount: float, step: int = USDC // 20) -> int:
    # Prices a person would set: multiples of 0.05 USDC, never below the amount asked.
    return -(-int(amount) // step) * step


def twin_plans() -> tuple[TwinPlan, ...]:
    """The 30 twins, generated from a fixed seed so that every run (and every test) sees the same catalogue."""
    import random

    rng = random.Random(30)
    plans = []
    for number, (name, model_index) in enumerate(zip(MODEL_NAMES, MODEL_INDICES), start=1):
        agency = AGENCIES[(number - 1) % len(AGENCIES)]
        agency_bps = rng.choice((1_000, 1_250, 1_500, 1_750, 2_000))
        crew: list[PayeePlan] = []
        if number % 3 == 0:  # every third twin shares with the crew of the shoot that made it
            for member in rng.sample(CREW, rng.choice((1, 2))):
                crew.append(PayeePlan(member.index, rng.choice((200, 300, 500)), CREW_ROLE))
        model_bps = BPS - agency_bps - sum(c.share_bps for c in crew)
        payees = (PayeePlan(model_index, model_bps, MODEL), PayeePlan(agency.index, agency_bps, AGENCY), *crew)

        chosen = [_TEMPLATES[0], *rng.sample(_TEMPLATES[1:], rng.choice((0, 1, 2)))]
        offers = []
        for label, categories, multipliers, (low, high), days, max_uses in chosen:
            exclusive = number in _EXCLUSIVE_TWINS and label != _TEMPLATES[0][0] and not any(o.exclusive for o in offers)
            upfront = rng.randrange(low, high + 1, 50) * USDC * (2 if exclusive else 1)
            offers.append(
                OfferPlan(
                    label=label + (" (exclusive)" if exclusive else ""),
                    upfront_fee=upfront,
                    per_use_fee=_round_fee(floor_of(categories) * rng.choice(multipliers)),
                    duration=days * DAY,
                    max_uses=rng.choice(max_uses),
                    categories=categories,
                    territories=rng.choice(_TERRITORY_SETS),
                    exclusive=exclusive,
                    transferable=not exclusive and rng.random() < 0.35,
                    idle_end_after=EXCLUSIVE_IDLE_END_AFTER if exclusive else 0,
                )
            )
        plans.append(TwinPlan(number, name, model_index, agency, payees, tuple(offers)))
    return tuple(plans)
