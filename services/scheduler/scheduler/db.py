"""The scheduler's metadata (schema ``scheduler``) and infrastructure tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db.infra import define_infra_tables
from shared.db.metadata import make_metadata

metadata = make_metadata("scheduler")


class Base(DeclarativeBase):
    metadata = metadata


infra = define_infra_tables(metadata, link_tokens=True)
