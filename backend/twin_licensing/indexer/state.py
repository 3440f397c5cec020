"""The mutable rows a batch of events changes, held in memory as dicts keyed by entity, then written back.

Forward (indexing new blocks): the entities the batch touches are loaded from the database (or start empty when
new), the handlers change them, and they are upserted. Replay (after a reorganisation): the affected entities
start empty and the whole history of those entities is fed through the same handlers; anything else an event
mentions is out of scope and left alone. One code path derives the state either way, so a rolled-back and
re-indexed database equals a fresh index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import Table, and_, delete, select, tuple_
from sqlalchemy.engine import Connection

from ..db.models import (
    Attestation, GuildFloor, License, Offer, PausePeriod, PayeeBalance, ProtocolParam, RoleMember, Twin, TwinPayee,
)
from .upsert import upsert

Row = dict[str, Any]
_CHUNK = 500  # ids per IN (...) query: well below SQLite's and psycopg's parameter limits


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


TWINS, PAYEES, OFFERS, LICENSES = _table(Twin), _table(TwinPayee), _table(Offer), _table(License)
BALANCES, FLOORS, PARAMS, ROLES = _table(PayeeBalance), _table(GuildFloor), _table(ProtocolParam), _table(RoleMember)
ATTESTATIONS, PAUSES = _table(Attestation), _table(PausePeriod)
PAUSED = "paused"  # the protocol parameter whose events (Paused / Unpaused) also keep `pause_periods`


def _defaults(table: Table) -> Row:
    """A new row with the column defaults of the model (0, "", False ...)."""
    row: Row = {}
    for column in table.columns:
        default = column.default.arg if column.default is not None else None
        row[column.name] = default() if callable(default) else default
    return row


_NEW = {name: _defaults(t) for name, t in
        (("twin", TWINS), ("offer", OFFERS), ("license", LICENSES), ("balance", BALANCES),
         ("floor", FLOORS), ("param", PARAMS), ("attestation", ATTESTATIONS))}


@dataclass
class Scope:
    """Keys of the entities a batch may change."""

    twins: set[int] = field(default_factory=set)
    offers: set[int] = field(default_factory=set)
    licenses: set[int] = field(default_factory=set)
    payees: set[str] = field(default_factory=set)
    floors: set[int] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    roles: set[tuple[str, str, str]] = field(default_factory=set)
    attestations: set[int] = field(default_factory=set)
    # Twins whose active offers a revocation withdrew (TwinOffersWithdrawn): those offers are in scope as well,
    # found in the database (`State.load`, `reorg.rollback`) since the event names no offer.
    withdrawals: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any((self.twins, self.offers, self.licenses, self.payees, self.floors, self.params, self.roles,
                    self.attestations))


class State:
    """The in-scope entities as row dicts. Getters return None for an entity out of scope, and mark the ones they
    return as touched: only touched entities are written back (after a replay, an entity none of whose events
    remain is not recreated)."""

    def __init__(self, chain_id: int, scope: Scope) -> None:
        self.chain_id = chain_id
        self.scope = scope
        self.twins: dict[int, Row] = {}
        # twin_id -> its payees: as stored (forward: read when first asked for), then as the events set them; only
        # the lists in `payees_changed` are written back
        self.payees: dict[int, list[Row]] = {}
        self.offers: dict[int, Row] = {}
        self.licenses: dict[int, Row] = {}
        self.balances: dict[str, Row] = {}
        self.floors: dict[int, Row] = {}
        self.params: dict[str, Row] = {}
        self.roles: dict[tuple[str, str, str], Row | None] = {}  # None: revoked
        self.attestations: dict[int, Row] = {}
        # The licence contract's pauses, by their Paused log (block, log index), while `paused` is in scope: forward,
        # the one still open as stored; in a replay, all of them as rebuilt.
        self.pauses: dict[tuple[int, int], Row] = {}
        self.touched: dict[str, set[Any]] = {
            k: set() for k in ("twin", "offer", "license", "balance", "floor", "param", "attestation", "pause")
        }
        self.payees_changed: set[int] = set()
        self.roles_changed: set[tuple[str, str, str]] = set()
        self._readonly_offers: dict[int, Row | None] = {}
        self._conn: Connection | None = None
        self._stored_payees = False  # forward: a twin's payee list starts as stored (read when first asked for)

    # ------------------------------------------------------------------ handlers' access

    def twin(self, twin_id: int) -> Row | None:
        row = self.twins.get(twin_id)
        if row is not None:
            self.touched["twin"].add(twin_id)
        return row

    def offer(self, offer_id: int) -> Row | None:
        row = self.offers.get(offer_id)
        if row is not None:
            self.touched["offer"].add(offer_id)
        return row

    def license(self, license_id: int) -> Row | None:
        row = self.licenses.get(license_id)
        if row is not None:
            self.touched["license"].add(license_id)
        return row

    def balance(self, payee: str) -> Row | None:
        row = self.balances.get(payee)
        if row is not None:
            self.touched["balance"].add(payee)
        return row

    def floor(self, category: int) -> Row | None:
        row = self.floors.get(category)
        if row is not None:
            self.touched["floor"].add(category)
        return row

    def param(self, name: str) -> Row | None:
        row = self.params.get(name)
        if row is not None:
            self.touched["param"].add(name)
        return row

    def attestation(self, attestation_id: int) -> Row | None:
        row = self.attestations.get(attestation_id)
        if row is not None:
            self.touched["attestation"].add(attestation_id)
        return row

    def active_offers_of(self, twin_id: int) -> list[Row]:
        """The twin's in-scope offers that are active (marked touched: the caller withdraws them). An offer not
        published yet in this history has twin 0 and is not among them."""
        found = [offer_id for offer_id, row in self.offers.items() if row["twin_id"] == twin_id and row["active"]]
        return [self.offer(offer_id) for offer_id in sorted(found)]  # type: ignore[misc]

    def pause_started(self, block_number: int, log_index: int, at: int) -> None:
        if PAUSED in self.scope.params:
            key = (block_number, log_index)
            self.pauses[key] = {"chain_id": self.chain_id, "paused_block": block_number, "paused_log_index": log_index,
                                "paused_at": at, "unpaused_at": None, "unpaused_block": None}
            self.touched["pause"].add(key)

    def pause_ended(self, block_number: int, at: int) -> None:
        """Closes the open pause (OpenZeppelin emits Unpaused only while paused: there is exactly one)."""
        if PAUSED in self.scope.params:
            for key, row in self.pauses.items():
                if row["unpaused_at"] is None:
                    row.update(unpaused_at=at, unpaused_block=block_number)
                    self.touched["pause"].add(key)

    def current_payees(self, twin_id: int) -> list[Row] | None:
        """The twin's payee rows as they stand (None if the twin is out of scope)."""
        if twin_id not in self.scope.twins:
            return None
        if twin_id not in self.payees and self._stored_payees and self._conn is not None:
            self.payees[twin_id] = [dict(row) for row in self._conn.execute(
                select(PAYEES).where(PAYEES.c.chain_id == self.chain_id, PAYEES.c.twin_id == twin_id)
                .order_by(PAYEES.c.position)).mappings()]
        return self.payees.get(twin_id, [])

    def accept_payee(self, twin_id: int, account: str) -> None:
        """Marks `account`'s listing on the twin accepted (a payee that is not listed any more has nothing to mark)."""
        for row in self.current_payees(twin_id) or []:
            if row["account"] == account:
                row["accepted"] = True
                self.payees_changed.add(twin_id)

    def set_payees(self, twin_id: int, rows: list[Row]) -> None:
        if twin_id in self.scope.twins:
            self.payees[twin_id] = rows
            self.payees_changed.add(twin_id)

    def set_role(self, key: tuple[str, str, str], row: Row | None) -> None:
        if key in self.scope.roles:
            self.roles[key] = row
            self.roles_changed.add(key)

    # ------------------------------------------------------------------ building

    @classmethod
    def load(cls, conn: Connection, chain_id: int, scope: Scope) -> "State":
        """The in-scope entities as stored; those not stored yet start as new rows."""
        state = cls(chain_id, scope)
        state._conn = conn
        if scope.withdrawals:
            scope.offers |= _active_offer_ids(conn, chain_id, scope.withdrawals)
        found = {
            "twin": _rows_by(conn, TWINS, chain_id, "twin_id", scope.twins),
            "offer": _rows_by(conn, OFFERS, chain_id, "offer_id", scope.offers),
            "license": _rows_by(conn, LICENSES, chain_id, "license_id", scope.licenses),
            "balance": _rows_by(conn, BALANCES, chain_id, "payee", scope.payees),
            "floor": _rows_by(conn, FLOORS, chain_id, "category", scope.floors),
            "param": _rows_by(conn, PARAMS, chain_id, "name", scope.params),
            "attestation": _rows_by(conn, ATTESTATIONS, chain_id, "attestation_id", scope.attestations),
        }
        state._fill(found)
        state._stored_payees = True
        if PAUSED in scope.params:
            open_pauses = conn.execute(select(PAUSES).where(PAUSES.c.chain_id == chain_id,
                                                            PAUSES.c.unpaused_at.is_(None))).mappings()
            state.pauses = {(r["paused_block"], r["paused_log_index"]): dict(r) for r in open_pauses}
        if scope.roles:
            stored = {(r["contract"], r["role"], r["account"]): r
                      for r in _rows_in(conn, ROLES, chain_id, "contract", {k[0] for k in scope.roles})}
            state.roles = {key: stored.get(key) for key in scope.roles}
        return state

    @classmethod
    def empty(cls, conn: Connection, chain_id: int, scope: Scope) -> "State":
        """The in-scope entities as if they had never existed (replay after a reorganisation)."""
        state = cls(chain_id, scope)
        state._conn = conn
        state._fill({})
        state.roles = {key: None for key in scope.roles}
        return state

    def _fill(self, found: dict[str, dict[Any, Row]]) -> None:
        scope = self.scope
        for kind, keys, target, key_column in (
            ("twin", scope.twins, self.twins, "twin_id"),
            ("offer", scope.offers, self.offers, "offer_id"),
            ("license", scope.licenses, self.licenses, "license_id"),
            ("balance", scope.payees, self.balances, "payee"),
            ("floor", scope.floors, self.floors, "category"),
            ("param", scope.params, self.params, "name"),
            ("attestation", scope.attestations, self.attestations, "attestation_id"),
        ):
            stored = found.get(kind, {})
            for key in keys:
                row = stored.get(key)
                if row is None:
                    row = dict(_NEW[kind], chain_id=self.chain_id)
                    row[key_column] = key
                target[key] = row

    # ------------------------------------------------------------------ reads across scope

    def offer_terms(self, offer_id: int) -> Row | None:
        """The offer, in scope or not: a licence snapshots its offer's terms, which never change once published."""
        if offer_id in self.offers:
            return self.offers[offer_id]
        if offer_id not in self._readonly_offers:
            row = None
            if self._conn is not None:
                found = self._conn.execute(
                    select(OFFERS).where(OFFERS.c.chain_id == self.chain_id, OFFERS.c.offer_id == offer_id)
                ).mappings().first()
                row = dict(found) if found is not None else None
            self._readonly_offers[offer_id] = row
        return self._readonly_offers[offer_id]

    # ------------------------------------------------------------------ writing back

    def write(self, conn: Connection) -> None:
        """Upserts the touched entities; rewrites changed payee lists and role memberships."""
        chain_id, touched = self.chain_id, self.touched
        for table, rows, kind in (
            (TWINS, self.twins, "twin"), (OFFERS, self.offers, "offer"), (LICENSES, self.licenses, "license"),
            (BALANCES, self.balances, "balance"), (FLOORS, self.floors, "floor"), (PARAMS, self.params, "param"),
            (ATTESTATIONS, self.attestations, "attestation"), (PAUSES, self.pauses, "pause"),
        ):
            upsert(conn, table, [rows[key] for key in touched[kind]])
        if self.payees_changed:
            for chunk in _chunks(self.payees_changed):
                conn.execute(delete(PAYEES).where(PAYEES.c.chain_id == chain_id, PAYEES.c.twin_id.in_(chunk)))
            rows = [row for twin_id in sorted(self.payees_changed) for row in self.payees[twin_id]]
            if rows:
                conn.execute(PAYEES.insert(), rows)
        if self.roles_changed:
            keys = sorted(self.roles_changed)
            for start in range(0, len(keys), _CHUNK):
                conn.execute(delete(ROLES).where(
                    ROLES.c.chain_id == chain_id,
                    tuple_(ROLES.c.contract, ROLES.c.role, ROLES.c.account).in_(keys[start : start + _CHUNK]),
                ))
            rows = [self.roles[key] for key in keys if self.roles[key] is not None]
            if rows:
                conn.execute(ROLES.insert(), rows)


def _chunks(keys: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(keys)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _active_offer_ids(conn: Connection, chain_id: int, twin_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(twin_ids):
        found.update(conn.execute(select(OFFERS.c.offer_id).where(
            OFFERS.c.chain_id == chain_id, OFFERS.c.twin_id.in_(chunk), OFFERS.c.active.is_(True))).scalars())
    return found


def offer_ids_of_twins(conn: Connection, chain_id: int, twin_ids: set[int]) -> set[int]:
    """Every stored offer of the twins, active or not."""
    found: set[int] = set()
    for chunk in _chunks(twin_ids):
        found.update(conn.execute(select(OFFERS.c.offer_id).where(
            OFFERS.c.chain_id == chain_id, OFFERS.c.twin_id.in_(chunk))).scalars())
    return found


def _rows_in(conn: Connection, table: Table, chain_id: int, column: str, keys: set[Any]) -> list[Row]:
    rows: list[Row] = []
    for chunk in _chunks(keys):
        result = conn.execute(select(table).where(and_(table.c.chain_id == chain_id, table.c[column].in_(chunk))))
        rows.extend(dict(row) for row in result.mappings())
    return rows


def _rows_by(conn: Connection, table: Table, chain_id: int, column: str, keys: set[Any]) -> dict[Any, Row]:
    return {row[column]: row for row in _rows_in(conn, table, chain_id, column, keys)}


def delete_entities(conn: Connection, chain_id: int, scope: Scope) -> None:
    """Removes the in-scope entities' rows, before they are rebuilt from their remaining events."""
    for table, column, keys in (
        (TWINS, "twin_id", scope.twins), (PAYEES, "twin_id", scope.twins), (OFFERS, "offer_id", scope.offers),
        (LICENSES, "license_id", scope.licenses), (BALANCES, "payee", scope.payees),
        (FLOORS, "category", scope.floors), (PARAMS, "name", scope.params),
        (ATTESTATIONS, "attestation_id", scope.attestations),
    ):
        for chunk in _chunks(keys):
            conn.execute(delete(table).where(table.c.chain_id == chain_id, table.c[column].in_(chunk)))
    if PAUSED in scope.params:  # rebuilt from every Paused / Unpaused (global events are replayed in full)
        conn.execute(delete(PAUSES).where(PAUSES.c.chain_id == chain_id))
    keys = list(scope.roles)
    for start in range(0, len(keys), _CHUNK):
        conn.execute(delete(ROLES).where(
            ROLES.c.chain_id == chain_id,
            tuple_(ROLES.c.contract, ROLES.c.role, ROLES.c.account).in_(keys[start : start + _CHUNK]),
        ))
