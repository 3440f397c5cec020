"""The schema: Alembic migrations build exactly the models' tables on SQLite and PostgreSQL, and money columns
never round."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

from twin_licensing.db import models  # noqa: F401 - every table on the metadata
from twin_licensing.db.engine import make_engine
from twin_licensing.db.license_state import PayeeBalance
from twin_licensing.db.migrate import current_revision, head_revision, upgrade_database
from twin_licensing.db.types import AmountOverflowError

@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
        yield engine
        engine.dispose()
        return
    yield request.getfixturevalue("postgres").new(migrate=False)  # dropped by the `postgres` fixture


def test_migrations_build_the_models_tables_and_run_twice_harmlessly(empty_engine):
    upgrade_database(empty_engine)
    upgrade_database(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []


def test_amounts_are_stored_exactly(empty_engine):
    upgrade_database(empty_engine)
    big = 2**63 - 1 if empty_engine.dialect.name == "sqlite" else 2**256 - 1
    with Session(empty_engine) as session:
        session.add(PayeeBalance(chain_id=1, payee="0x" + "aa" * 20, distributed=big, withdrawn=big - 1))
        session.commit()
    with Session(empty_engine) as session:
        row = session.get(PayeeBalance, (1, "0x" + "aa" * 20))
        assert (row.distributed, row.withdrawn) == (big, big - 1)
        assert isinstance(row.distributed, int)


def test_sqlite_refuses_an_amount_it_cannot_hold_rather_than_round_it(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'big.db'}")
    upgrade_database(engine)
    with Session(engine) as session:
        session.add(PayeeBalance(chain_id=1, payee="0x" + "bb" * 20, distributed=2**63))
        with pytest.raises(Exception, match="exceeds SQLite's 64-bit integers") as caught:
            session.commit()
    assert isinstance(caught.value, AmountOverflowError) or isinstance(caught.value.orig, AmountOverflowError)
    engine.dispose()


def test_settlement_v2_migration_keeps_old_rows_and_goes_back_down(empty_engine):
    """0010 adds issue 11's index columns with defaults to rows already there, and its downgrade removes them."""
    from alembic import command
    from sqlalchemy import inspect, text

    from twin_licensing.db.migrate import alembic_config

    upgrade_database(empty_engine, "0009_category_consent")
    with empty_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO settlements (chain_id, license_id, first_seq, count, twin_id, amount, uses_root, holder, "
            "tx_hash, log_index, block_number, block_time) VALUES (1, 1, 0, 2, 1, 10, :root, :holder, :tx, 0, 5, 6)"),
            {"root": "0x" + "11" * 32, "holder": "0x" + "aa" * 20, "tx": "0x" + "22" * 32})
    upgrade_database(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT payer FROM settlements")).scalar_one() == ""
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    with empty_engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0009_category_consent")
        conn.commit()
    tables = inspect(empty_engine)
    assert not {"settle_skips", "pause_periods"} & set(tables.get_table_names())
    assert "payer" not in {c["name"] for c in tables.get_columns("settlements")}
    assert "seller_escrow" not in {c["name"] for c in tables.get_columns("licenses")}
    upgrade_database(empty_engine)
    assert current_revision(empty_engine) == head_revision()
