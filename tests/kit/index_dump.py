"""Every row of the indexer's tables, to compare two indexes row by row."""

from __future__ import annotations

from sqlalchemy import Engine, select

from twin_licensing.db.models import INDEX_TABLES

VOLATILE_COLUMNS = {"updated_at"}  # wall-clock time of the last write: differs between any two runs


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the indexer's tables, sorted, without wall-clock columns: equal dumps = equal indexes."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for model in INDEX_TABLES:
            table = model.__table__
            columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
            rows = [tuple(row) for row in conn.execute(select(*columns))]
            out[table.name] = sorted(rows, key=repr)
    return out


def assert_same_index(a: Engine, b: Engine) -> None:
    left, right = dump(a), dump(b)
    for table in left:
        assert left[table] == right[table], f"table {table} differs"
