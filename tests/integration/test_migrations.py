"""The Alembic migrations create exactly the schema the code declares, on both backends."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from queue_server.persistence.tables import metadata


def test_migrations_match_the_tables(any_db_url: str) -> None:
    engine = sa.create_engine(any_db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []
