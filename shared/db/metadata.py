"""Every service's metadata lives in its own schema with one explicit constraint naming
convention, so migrations name constraints the same way on every machine."""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata(schema: str) -> MetaData:
    """Metadata bound to a service's schema, with the suite's naming convention."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)
