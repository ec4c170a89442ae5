"""The versioned schema: created fresh, re-run harmlessly, and a newer database refused."""

from __future__ import annotations

import peewee
import pytest

from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.coupling_writes import couple
from bc_tui.store.errors import StoreError
from bc_tui.store.migrations import SCHEMA_VERSION, current_version, migrate
from bc_tui.store.models import ALL_MODELS, SchemaVersion


def test_fresh_database_gets_every_table_and_the_current_version(empty_db: peewee.Database) -> None:
    assert current_version(empty_db) == 0
    assert migrate(empty_db) == SCHEMA_VERSION
    assert current_version(empty_db) == SCHEMA_VERSION
    for model in ALL_MODELS:
        assert empty_db.table_exists(model._meta.table_name), model._meta.table_name
    # One row per step, so the history of upgrades is visible.
    assert [row.version for row in SchemaVersion.select().order_by(SchemaVersion.version)] == list(
        range(1, SCHEMA_VERSION + 1)
    )


def test_migrating_again_changes_nothing_and_keeps_data(store: peewee.Database) -> None:
    couple("CUSTOMER", "b1", "d1")
    assert migrate(store) == SCHEMA_VERSION
    assert migrate(store) == SCHEMA_VERSION
    assert SchemaVersion.select().count() == SCHEMA_VERSION
    assert get_by_bc_id("CUSTOMER", "b1") is not None


def test_a_database_from_a_newer_bc_tui_is_refused_with_a_plain_sentence(store: peewee.Database) -> None:
    SchemaVersion.create(version=SCHEMA_VERSION + 4)
    with pytest.raises(StoreError) as caught:
        migrate(store)
    message = str(caught.value)
    assert message.startswith("The coupling database at ")
    assert message.endswith(
        f"was created by a newer bc-tui (schema {SCHEMA_VERSION + 4}, this version knows {SCHEMA_VERSION}). "
        "Upgrade bc-tui."
    )
