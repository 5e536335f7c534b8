"""Alembic migrations of the metadata schema (run by zenml itself; no alembic.ini needed)."""
