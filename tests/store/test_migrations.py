"""The versioned schema: created fresh, re-run harmlessly, and a newer database refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import peewee
import pytest
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply_operations

from bc_tui.domain.mappings import FieldMapping
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.coupling_writes import couple
from bc_tui.store.create_intents import begin_create_intent, pending_intents
from bc_tui.store.errors import StoreError
from bc_tui.store.jobs import JobType, get_job, increment, start_job
from bc_tui.store.mapping_store import load_table_mappings, save_table_mappings
from bc_tui.store.migrations import (
    SCHEMA_VERSION,
    STEPS,
    _step_6_job_conflicts,
    _step_8_job_unmatched,
    current_version,
    migrate,
)
from bc_tui.store.models import ALL_MODELS, SchemaVersion
from bc_tui.store.records import Side


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


def test_step_5_keeps_an_old_intent_and_gives_intents_their_body_and_time(empty_db: peewee.Database) -> None:
    # A database of schema 4, holding the intent of a BC create with a planned number (how an
    # older bc-tui found an interrupted create again).
    with empty_db.bind_ctx(list(ALL_MODELS)):
        empty_db.create_tables([SchemaVersion])
        for number, step in enumerate(STEPS[:4], start=1):
            step(empty_db)
            SchemaVersion.create(version=number)
    assert "body" not in {c.name for c in empty_db.get_columns("create_intents")}
    empty_db.execute_sql(
        "INSERT INTO create_intents (mapping, source_side, source_id, planned_id, state, created_at) "
        "VALUES ('CUSTOMER', 'dataverse', 'd1', 'DV0123456789ABCDEF', 'pending', '2026-01-01 00:00:00.000000')"
    )
    assert migrate(empty_db) == SCHEMA_VERSION
    assert {"body", "begun_at"} <= {c.name for c in empty_db.get_columns("create_intents")}
    [old] = pending_intents()
    assert (old.planned_id, old.body, old.begun_at) == ("DV0123456789ABCDEF", None, None)
    moment = datetime(2026, 12, 2, 13, 0, 5, tzinfo=UTC)
    new = begin_create_intent("CUSTOMER", Side.DATAVERSE, "d2", "", body={"displayName": "Adatum"}, begun_at=moment)
    assert pending_intents()[1] == new and (new.body, new.begun_at) == ({"displayName": "Adatum"}, moment)


def test_a_fresh_database_has_exactly_the_columns_the_models_declare(empty_db: peewee.Database) -> None:
    # Step 1 builds the tables later steps alter from the models themselves, minus what those
    # steps add; after every step each table must hold the model's columns, no more, no fewer.
    migrate(empty_db)
    for model in ALL_MODELS:
        columns = {column.name for column in empty_db.get_columns(model._meta.table_name)}
        assert columns == {field.column_name for field in model._meta.sorted_fields}, model._meta.table_name


def test_step_6_counts_conflicts_apart_and_keeps_the_old_jobs(store: peewee.Database) -> None:
    # A schema-4 database: its jobs counted their conflicts with the failures, in no column of their own.
    job = start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER")
    increment(job.id, failed=2, modified=1)
    apply_operations(SchemaMigrator.from_database(store).drop_column("sync_jobs", "conflicts"))
    step = STEPS.index(_step_6_job_conflicts) + 1  # its number, wherever it ends up in the list
    SchemaVersion.delete().where(SchemaVersion.version >= step).execute()
    assert "conflicts" not in {column.name for column in store.get_columns("sync_jobs")}

    assert migrate(store) == SCHEMA_VERSION

    old = get_job(job.id)
    assert (old.failed, old.conflicts, old.modified) == (2, 0, 1)
    increment(job.id, conflicts=1)
    assert get_job(job.id).conflicts == 1


def test_step_8_counts_unmatched_apart_and_keeps_the_old_jobs(store: peewee.Database) -> None:
    # A schema-7 database: match-based coupling counted its records without a match as failed.
    job = start_job(JobType.MATCH_BASED_COUPLING, mapping="CUSTOMER")
    increment(job.id, failed=12, coupled=3)
    apply_operations(SchemaMigrator.from_database(store).drop_column("sync_jobs", "unmatched"))
    step = STEPS.index(_step_8_job_unmatched) + 1
    SchemaVersion.delete().where(SchemaVersion.version >= step).execute()
    assert "unmatched" not in {column.name for column in store.get_columns("sync_jobs")}

    assert migrate(store) == SCHEMA_VERSION

    old = get_job(job.id)
    assert (old.failed, old.unmatched, old.coupled) == (12, 0, 3)
    increment(job.id, unmatched=2)
    assert get_job(job.id).unmatched == 2
