"""Who may see what: the visibility rules, written once; every route that answers private data asks them.

- Public: the catalogue, twin pages, chain facts (deployment, health, a payee's earnings: every number in them is
  read from public chain events), consent documents.
- A licence, its uses and their labels: the licence's holder; and the model, the payees and the guild of its twin,
  who see every use of the twin with its label, category, territory, time and brand.
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


def can_see_license(viewer: Viewer, holder: str) -> bool:
    """The holder sees its licences (and their uses and labels)."""
    return viewer.is_account(holder)


def can_see_twin_uses(viewer: Viewer, model: str, payees: Iterable[str]) -> bool:
    """The model, the payees and the guild see every use of a twin (and the licences they were reported under)."""
    return viewer.guild or viewer.is_account(model) or any(viewer.is_account(p) for p in payees)


def can_see_use(viewer: Viewer, holder: str, model: str, payees: Iterable[str]) -> bool:
    """A licence and each of its uses: its holder, or the audience of its twin."""
    return can_see_license(viewer, holder) or can_see_twin_uses(viewer, model, payees)


def not_found(what: str, who: str) -> NotFoundError:
    """The one answer to an object the viewer may not see, identical to the answer for one that does not exist:
    `what` names it ("licence 3"), `who` says who may see it ("its holder or a payee of its twin")."""
    return NotFoundError(
        f"There is no {what} you can see: check the number, or sign in as {who} (if it was just created, wait a moment)."
    )


LICENCE_AUDIENCE = "its holder, or the model, a payee or the guild of its twin"


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


def visible_license(session: Session, chain_id: int, viewer: Viewer, license_id: int) -> License:
    """The licence, if it exists and the viewer may see it; else the 404 of `not_found`."""
    lic = session.get(License, (chain_id, license_id)) if viewer.signed_in else None
    if lic is not None:
        if can_see_license(viewer, lic.holder) or can_see_twin_uses_of(session, chain_id, viewer, lic.twin_id):
            return lic
    raise not_found(f"licence {license_id}", LICENCE_AUDIENCE)


def can_see_use_of(session: Session, chain_id: int, viewer: Viewer, license_id: int, signer: str) -> bool:
    """A reported use: whoever may see its licence (its signer, the holder, while the index lacks the licence)."""
    lic = session.get(License, (chain_id, license_id))
    if lic is None:
        return viewer.is_account(signer)
    return can_see_license(viewer, lic.holder) or can_see_twin_uses_of(session, chain_id, viewer, lic.twin_id)


USE_AUDIENCE = "the holder of its licence, or the model, a payee or the guild of its twin"


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
    holder = License.holder == viewer.address
    return or_(holder, License.twin_id.in_(twins)) if twins else holder


def visible_twins(session: Session, chain_id: int, viewer: Viewer) -> list[int] | None:
    """The twins whose every use the viewer sees (the usage log): None for the guild, meaning every twin; none for
    an anonymous viewer."""
    if viewer.guild:
        return None
    if not viewer.signed_in:
        return []
    return _twins_of(session, chain_id, viewer.address)
