"""Storage: SQLModel tables, engines (SQLite by default, PostgreSQL by DATABASE_URL) and Alembic migrations."""
