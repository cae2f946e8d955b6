"""Alembic migrations of the inventory (run by :func:`wardwatch.inventory.db.migrate`)."""
