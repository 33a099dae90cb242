"""Alembic migrations for the service's tables, for SQLite and PostgreSQL alike.

`reviewbot.service.db.make_engine` upgrades a database to the newest revision
when it opens it; `reviewbot migrate` does the same on its own. To add a
revision after changing `reviewbot/service/db.py`:

    .venv/bin/alembic -c reviewbot/migrations/alembic.ini revision --autogenerate -m "what changed"
"""
