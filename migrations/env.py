"""Alembic environment (async): the URL comes from DATABASE_URL, the schema from core.models."""
import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import core.models  # noqa: F401 - registers the tables
from core.db import Base, make_engine
from core.settings import load_settings

config = context.config
target_metadata = Base.metadata


def url() -> str:
    return config.attributes.get("database_url") or load_settings().database_url


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = make_engine(url())
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())
