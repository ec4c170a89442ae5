"""The versioned schema: created fresh, re-run harmlessly, and a newer database refused."""

from __future__ import annotations

import dataclasses

import peewee
import pytest

from bc_tui.domain.mappings import FieldMapping
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.coupling_writes import couple
from bc_tui.store.errors import StoreError
from bc_tui.store.mapping_store import load_table_mappings, save_table_mappings
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


def test_step_4_drops_the_contact_job_title_mapping_and_keeps_the_rest(store: peewee.Database) -> None:
    # A database seeded before step 4 holds the contact field mapping of jobTitle, which BC API
    # v2.0 contacts do not have (docs/coupling-and-sync.md, "Table and field mappings").
    seeded = load_table_mappings()
    old = tuple(
        dataclasses.replace(m, fields=(*m.fields, FieldMapping("Job Title", "jobTitle", "jobtitle"))) for m in seeded
    )
    save_table_mappings(old)
    SchemaVersion.delete().where(SchemaVersion.version >= 4).execute()  # as a schema-3 database
    assert migrate(store) == SCHEMA_VERSION
    after = {m.name: m for m in load_table_mappings()}
    before = {m.name: m for m in old}
    assert "jobTitle" not in [f.bc_field for f in after["CONTACT"].fields]
    # Only the contacts' mapping lost it; everything else is as it was.
    assert after["CUSTOMER"] == before["CUSTOMER"]
    assert after["CONTACT"].fields == {m.name: m for m in seeded}["CONTACT"].fields
