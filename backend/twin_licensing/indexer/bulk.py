"""Bulk inserts straight through the database driver's executemany.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert; rows of the append-only tables are
plain ints, strings and bools already, so they go to the driver as tuples in column order. (SQLite itself refuses
an integer above 2**63 with OverflowError, so no amount can be rounded on the way.)
"""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter
from typing import Any, Callable

from sqlalchemy import Table
from sqlalchemy.engine import Connection


@lru_cache(maxsize=64)
def _statement(table: Table, dialect: str) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
    columns = [column.name for column in table.columns]
    placeholder = "?" if dialect == "sqlite" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * len(columns))})"
    return sql, itemgetter(*columns)


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    sql, values = _statement(table, conn.dialect.name)
    conn.exec_driver_sql(sql, [values(row) for row in rows])


def insert_values(conn: Connection, table: Table, values: list[tuple[Any, ...]]) -> None:
    """Like `bulk_insert`, for rows already built as tuples in the table's column order."""
    if values:
        conn.exec_driver_sql(_statement(table, conn.dialect.name)[0], values)
