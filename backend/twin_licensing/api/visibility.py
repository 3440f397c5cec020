"""Who may see what: the visibility rules, written once; every route that answers private data asks them.

- Public: the catalogue, twin pages, chain facts (deployment, health, a payee's earnings: every number in them is
  read from public chain events), consent documents.
- A use, in full (its label, use_ref - the asset's hash -, image, category, territory, time): the account that signed
  it, and the model, the payees and the guild of its twin, who see every use of the twin with its brand.
- A licence: its holder; every former holder (who bought it, or got it at a handover, and handed it over since: her
  seller escrow is on it, and her uses); and its twin's audience above.
- A licence's uses, listed: the twin's audience sees each in full; the holder sees hers in full and, of the uses its
  former holders signed, only the number and status the licence needs (`LicenceSight`: no label, use_ref, asset,
  category, territory or time); a former holder sees her own uses only.
- Anyone else: 404, with the same sentence as for an object that does not exist (a 403 would confirm that it does).

The viewer is the account signed in with Sign-In with Ethereum (`api/sessions.py`), or anonymous; `guild` says
whether it holds GUILD_ROLE on the registry as the index knows it. Routes receive it as `viewer: ViewerDep`
(`api/deps.py`). The payees are the twin's current ones (a payee removed from a twin no longer sees its uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import false, or_, select, true
from sqlmodel import Session

from ..db.chain_log import ChainEvent
from ..db.license_state import License
from ..db.registry_state import RoleMember, Twin, TwinPayee
from ..errors import NotFoundError

GUILD_ROLE_NAME = "GUILD_ROLE"


@dataclass(frozen=True)
class Viewer:
    """Who asks: `address` (checksummed) when signed in, None when anonymous; `guild` when it holds the guild role."""

    address: str | None = None
    guild: bool = False

    @property
    def signed_in(self) -> bool:
        return self.address is not None

    def is_account(self, address: str | None) -> bool:
        return self.address is not None and address is not None and self.address.lower() == address.lower()


ANONYMOUS = Viewer()


# ------------------------------------------------------------------ the rules


def can_see_license(viewer: Viewer, holder: str, former_holders: Iterable[str] = ()) -> bool:
    """The holder sees its licences; a former holder too (her seller escrow and her own uses are on it)."""
    return viewer.is_account(holder) or any(viewer.is_account(a) for a in former_holders)


def can_see_twin_uses(viewer: Viewer, model: str, payees: Iterable[str]) -> bool:
    """The model, the payees and the guild see every use of a twin (and the licences they were reported under)."""
    return viewer.guild or viewer.is_account(model) or any(viewer.is_account(p) for p in payees)


@dataclass(frozen=True)
class LicenceSight:
    """How a viewer who may see a licence sees its uses."""

    viewer: Viewer
    every_use: bool  # the twin's model, a payee or the guild: every use in full
    holder: bool  # the current holder: her uses in full, her predecessors' as number and status

    def in_full(self, signer: str) -> bool:
        return self.every_use or self.viewer.is_account(signer)

    @property
    def only_signer(self) -> str | None:
        """The signer the licence's list is narrowed to (a former holder's: her own uses), or None for every use."""
        return None if self.every_use or self.holder else self.viewer.address


def not_found(what: str, who: str) -> NotFoundError:
    """The one answer to an object the viewer may not see, identical to the answer for one that does not exist:
    `what` names it ("licence 3"), `who` says who may see it ("its holder or a payee of its twin")."""
    return NotFoundError(
        f"There is no {what} you can see: check the number, or sign in as {who} (if it was just created, wait a moment)."
    )


LICENCE_AUDIENCE = "its holder (or one who held it before), or the model, a payee or the guild of its twin"


# ------------------------------------------------------------------ the rules applied to the index


def is_guild(session: Session, chain_id: int, address: str, configured_guild: str | None = None) -> bool:
    """Whether `address` holds GUILD_ROLE on the registry, as the index knows it; before the index has any role
    event, the deployment's guild (`configured_guild`) stands in."""
    members = list(
        session.execute(
            select(RoleMember.account).where(
                RoleMember.chain_id == chain_id,
                RoleMember.contract == "TwinRegistry",
                RoleMember.role_name == GUILD_ROLE_NAME,
            )
        ).scalars()
    )
    if not members:
        return configured_guild is not None and configured_guild.lower() == address.lower()
    return any(m.lower() == address.lower() for m in members)


def twin_audience(session: Session, chain_id: int, twin_id: int) -> tuple[str, list[str]]:
    """The twin's model and current payees ("" and [] for a twin the index does not know)."""
    twin = session.get(Twin, (chain_id, twin_id))
    payees = session.execute(
        select(TwinPayee.account).where(TwinPayee.chain_id == chain_id, TwinPayee.twin_id == twin_id)
    ).scalars()
    return (twin.model if twin else ""), list(payees)


def can_see_twin_uses_of(session: Session, chain_id: int, viewer: Viewer, twin_id: int) -> bool:
    if viewer.guild:
        return True
    if not viewer.signed_in:
        return False
    model, payees = twin_audience(session, chain_id, twin_id)
    return can_see_twin_uses(viewer, model, payees)


def former_holders(session: Session, lic: License) -> set[str]:
    """Who held the licence before its holder: its buyer, and whoever got it at a handover (LicenseHandedOver's
    `account` is its buyer), except the holder. A few rows of the licence's events."""
    handed_to = session.execute(
        select(ChainEvent.account).where(ChainEvent.chain_id == lic.chain_id, ChainEvent.license_id == lic.license_id,
                                         ChainEvent.name == "LicenseHandedOver")
    ).scalars()
    held = {a.lower() for a in (lic.buyer, lic.seller, *handed_to) if a}
    return held - {lic.holder.lower()}


def licence_sight(session: Session, chain_id: int, viewer: Viewer, license_id: int) -> tuple[License, LicenceSight]:
    """The licence and how the viewer sees its uses, if it exists and the viewer may see it; else the 404 of
    `not_found`."""
    lic = session.get(License, (chain_id, license_id)) if viewer.signed_in else None
    if lic is not None:
        every_use = can_see_twin_uses_of(session, chain_id, viewer, lic.twin_id)
        holder = viewer.is_account(lic.holder)
        if every_use or holder or can_see_license(viewer, lic.holder, former_holders(session, lic)):
            return lic, LicenceSight(viewer, every_use=every_use, holder=holder)
    raise not_found(f"licence {license_id}", LICENCE_AUDIENCE)


def visible_license(session: Session, chain_id: int, viewer: Viewer, license_id: int) -> License:
    """The licence, if it exists and the viewer may see it; else the 404 of `not_found`."""
    return licence_sight(session, chain_id, viewer, license_id)[0]


def can_see_use_of(session: Session, chain_id: int, viewer: Viewer, *, signer: str, twin_id: int) -> bool:
    """A reported use in full (label, use_ref, image...): the account that signed it, or the audience of its twin (the
    use's own, so the rule holds while the index lacks the licence). Not the holder of its licence as such: a licence
    bought second-hand does not bring its seller's labels with it (`LicenceSight` says what its holder sees)."""
    return viewer.is_account(signer) or can_see_twin_uses_of(session, chain_id, viewer, twin_id)


USE_AUDIENCE = "the account that reported it, or the model, a payee or the guild of its twin"


def _twins_of(session: Session, chain_id: int, address: str) -> list[int]:
    """The twins whose model or current payee `address` is."""
    as_model = select(Twin.twin_id).where(Twin.chain_id == chain_id, Twin.model == address)
    as_payee = select(TwinPayee.twin_id).where(TwinPayee.chain_id == chain_id, TwinPayee.account == address)
    return sorted(set(session.execute(as_model).scalars()) | set(session.execute(as_payee).scalars()))


def visible_licences(session: Session, chain_id: int, viewer: Viewer):
    """A condition on `License` rows: those the viewer may see (for lists, which show only these)."""
    if viewer.guild:
        return true()
    if not viewer.signed_in:
        return false()
    twins = _twins_of(session, chain_id, viewer.address)
    handed_to = select(ChainEvent.license_id).where(
        ChainEvent.chain_id == chain_id, ChainEvent.account == viewer.address, ChainEvent.name == "LicenseHandedOver",
        ChainEvent.license_id.is_not(None))
    held = or_(License.holder == viewer.address, License.buyer == viewer.address, License.seller == viewer.address,
               License.license_id.in_(handed_to))
    return or_(held, License.twin_id.in_(twins)) if twins else held


def visible_twins(session: Session, chain_id: int, viewer: Viewer) -> list[int] | None:
    """The twins whose every use the viewer sees (the usage log): None for the guild, meaning every twin; none for
    an anonymous viewer."""
    if viewer.guild:
        return None
    if not viewer.signed_in:
        return []
    return _twins_of(session, chain_id, viewer.address)
