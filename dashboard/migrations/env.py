"""Alembic environment: run by :mod:`dashboard.migrate`, which hands over the connection."""

from __future__ import annotations

from alembic import context

from dashboard.schema import metadata
from dashboard.schema_check import VERSION_TABLE

config = context.config


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
        render_as_batch=False,
        output_buffer=config.attributes.get("output_buffer"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
        # pysqlite runs DDL inside transactions too: each migration is all or nothing on both backends.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
