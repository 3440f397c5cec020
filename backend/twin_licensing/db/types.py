"""Column types shared by the tables: money and other on-chain integers stored exactly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..errors import TwinLicensingError

INT64_MAX = 2**63 - 1


class AmountOverflowError(TwinLicensingError, OverflowError):
    """A value does not fit the database's integer column (SQLite stores at most 64-bit integers)."""


class Amount(TypeDecorator[int]):
    """An unsigned on-chain integer (token micro-units, uint256 sums) that must never lose a unit.

    PostgreSQL stores NUMERIC(78,0), which holds any uint256. SQLite has no exact decimal type: its NUMERIC
    affinity silently turns integers above 2**63 into floats, so there the column is a 64-bit INTEGER and a larger
    value is refused loudly rather than rounded (9.2e12 tokens of 6 decimals; use PostgreSQL beyond that).
    """

    impl = Numeric(78, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(78, 0, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = int(value)
        if dialect.name == "sqlite" and not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise AmountOverflowError(f"{value} exceeds SQLite's 64-bit integers; use PostgreSQL (DATABASE_URL)")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)
