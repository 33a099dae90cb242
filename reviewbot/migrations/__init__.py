"""Alembic migrations for the service's tables, for SQLite and PostgreSQL alike.

`reviewbot.store.db.make_engine` upgrades a database to the newest revision
when it opens it; `reviewbot migrate` does the same on its own. To add a
revision after changing `reviewbot/store/db.py`:

    .venv/bin/alembic -c reviewbot/migrations/alembic.ini revision --autogenerate -m "what changed"
"""
