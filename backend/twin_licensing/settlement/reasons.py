"""What a settle revert means for the uses of one item: retry, or hold them with a reason the brand can read."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.money import format_money
from ..domain.times import when
from ..domain.vocabulary import category_name
from ..errors import ContractRevert

# Conditions that no later transaction can cure: the licence's expiry and max uses never change.
PERMANENT = {"LicenseTokenExpired", "LicenseTokenMaxUsesExceeded"}
# Conditions that concern one licence (its id is the error's first argument) ...
PER_LICENSE = {
    "LicenseTokenExpired",
    "LicenseTokenMaxUsesExceeded",
    "LicenseTokenInsufficientEscrow",
}
# ... or every licence of one twin (the twin id is the first argument).
PER_TWIN = {"LicenseTokenConsentRevoked"}
# ... or the items of one twin whose uses include one usage category (twin id, category, effective time).
PER_TWIN_CATEGORY = {"LicenseTokenCategoryConsentRevoked"}


@dataclass(frozen=True)
class Hold:
    code: str
    reason: str
    permanent: bool


def hold_for(revert: ContractRevert, *, ended: bool = False) -> Hold | None:
    """The hold an item's revert calls for, or None if it is not about the item's licence (retry the batch).
    `ended`: the index says the model ended the (exclusive, idle) licence, which made it expire then."""
    args = revert.named_args
    values = list(args.values())
    if revert.name == "LicenseTokenExpired" and ended:
        reason = (f"the model ended this exclusive licence on {when(values[1])}, after it had settled no use for the "
                  "idle period its offer stated, before these uses were settled")
    elif revert.name == "LicenseTokenExpired":
        reason = f"the licence expired on {when(values[1])}, before these uses were settled"
    elif revert.name == "LicenseTokenMaxUsesExceeded":
        reason = f"the licence allows {values[1]} uses in all and these would make {values[2]}"
    elif revert.name == "LicenseTokenInsufficientEscrow":
        reason = (
            f"the licence's escrow ({format_money(values[2])}) does not cover these uses "
            f"({format_money(values[1])}), so top up the escrow"
        )
    elif revert.name == "LicenseTokenConsentRevoked":
        reason = f"the model's revocation of consent took effect on {when(values[1])} before these uses were settled"
    elif revert.name == "LicenseTokenCategoryConsentRevoked":
        reason = (f"the model's withdrawal of consent to usage category {category_name(values[1])} took effect on "
                  f"{when(values[2])} before these uses, which include uses in it, were settled")
    else:
        return None
    return Hold(code=revert.name, reason=reason, permanent=revert.name in PERMANENT)
