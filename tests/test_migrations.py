"""The migrations build exactly the schema the models declare (tables, columns, types, indexes, constraints).

A model change without its migration (or the reverse) would leave production, which is only ever migrated,
different from what the code and the tests assume; autogenerate's comparison finds nothing to do.
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import db


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
