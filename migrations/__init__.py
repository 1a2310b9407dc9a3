"""Alembic migrations, shipped inside the package so that an installed service can migrate."""
