"""The Alembic migrations create exactly the schema the code declares, on both backends."""
import pytest
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


def test_the_server_reads_the_same_revisions_as_alembic(any_db_url: str, tmp_path) -> None:  # noqa: ANN001
    """The serving process reads the head and the database's revision without importing Alembic."""
    from alembic.script import ScriptDirectory

    from queue_server.persistence import schema
    from queue_server.persistence.database import Database

    db = Database(any_db_url)
    assert schema.head_revision() == ScriptDirectory.from_config(schema.alembic_config(db)).get_current_head()
    with db.engine.connect() as conn:
        assert schema.current_revision(db) == MigrationContext.configure(conn).get_current_revision()
    fresh = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    assert schema.current_revision(fresh) is None and not schema.is_up_to_date(fresh)
    db.dispose()
    fresh.dispose()


def test_a_fork_in_the_migrations_is_refused(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from queue_server.persistence import schema

    versions = tmp_path / "versions"
    versions.mkdir()
    for name, text in {"a.py": "revision = '0001'\ndown_revision = None\n",
                       "b.py": "revision = '0002'\ndown_revision = '0001'\n",
                       "c.py": "revision = '0003'\ndown_revision = '0001'\n"}.items():
        (versions / name).write_text(text)
    monkeypatch.setattr(schema, "MIGRATIONS", tmp_path)
    with pytest.raises(RuntimeError, match="2 heads"):
        schema.head_revision()
