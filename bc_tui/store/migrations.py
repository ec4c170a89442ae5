"""Versioned schema of the coupling database, brought up to date at every start.

``STEPS`` lists the schema steps in order; step *n* turns a schema-*(n-1)* database into a
schema-*n* one and is recorded in ``schema_version``. Step 1 creates every table.

To change the schema: edit ``models.py`` and append a step that makes the same change to an
existing database (``playhouse.migrate.SchemaMigrator`` helps), e.g. ``add_column``. A fresh
database runs all steps in order, so step 1 must keep creating the tables *as they were in
schema 1*: when a later step adds columns to a table, name them in ``_ADDED_LATER`` and step 1
leaves them out.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import peewee
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply_operations

from bc_tui.store.database import location, write_transaction
from bc_tui.store.errors import StoreError
from bc_tui.store.models import (
    ALL_MODELS,
    BaseModel,
    CouplingClaim,
    CreateIntent,
    FieldMappingRow,
    RecordChange,
    SchemaVersion,
    SyncJob,
    TableMappingRow,
)

#: The columns step 2 adds to ``sync_jobs``: who runs a job and its last sign of life.
_JOB_PROCESS_COLUMNS = ("total", "host", "pid", "process_started", "heartbeat_at")
#: The column step 6 adds to ``sync_jobs``: conflicts counted apart from failures.
_JOB_CONFLICT_COLUMNS = ("conflicts",)
#: The column step 8 adds to ``sync_jobs``: records match-based coupling found no match for.
_JOB_UNMATCHED_COLUMNS = ("unmatched",)
#: The columns step 5 adds to ``create_intents``: the values sent and when the create began.
_INTENT_BODY_COLUMNS = ("body", "begun_at")

#: The columns later steps add, by model: step 1 leaves them out, so that a fresh database passes
#: through the same schemas as an old one and each later step finds the table it alters.
_ADDED_LATER: dict[type[BaseModel], tuple[str, ...]] = {
    SyncJob: (*_JOB_PROCESS_COLUMNS, *_JOB_CONFLICT_COLUMNS, *_JOB_UNMATCHED_COLUMNS),
    CreateIntent: _INTENT_BODY_COLUMNS,
}


def _as_in_schema_1(model: type[BaseModel]) -> type[BaseModel]:
    """``model``'s table as step 1 created it: its columns but those ``_ADDED_LATER`` names.

    The columns are copies of the model's own fields (as peewee copies them for a subclass), so
    models.py stays the one declaration of every column.
    """
    later = _ADDED_LATER.get(model, ())
    columns = {name: copy.deepcopy(field) for name, field in model._meta.fields.items() if name not in later}
    meta = type("Meta", (), {"table_name": model._meta.table_name, "indexes": model._meta.indexes})
    return type(f"{model.__name__}Schema1", (BaseModel,), {**columns, "Meta": meta, "__module__": __name__})


def _step_1_create_everything(db: peewee.Database) -> None:
    """Create the couplings, intents, jobs, job errors, mappings and watermarks tables."""
    frozen = [_as_in_schema_1(model) for model in _ADDED_LATER]
    with db.bind_ctx(frozen):
        # First: job_errors refers to sync_jobs, and PostgreSQL wants the referenced table to exist.
        db.create_tables(frozen, safe=True)
    # Made by migrate() itself, by a later step, or above.
    later = (SchemaVersion, CouplingClaim, RecordChange, *_ADDED_LATER)
    db.create_tables([model for model in ALL_MODELS if model not in later], safe=True)


def _step_2_job_process_and_heartbeat(db: peewee.Database) -> None:
    """Record on each job its process (host, pid, start time), its heartbeat and its total."""
    _add_columns(db, SyncJob, _JOB_PROCESS_COLUMNS)


def _step_3_coupling_claims(db: peewee.Database) -> None:
    """Create the coupling_claims table: which job is synchronizing which coupling right now."""
    db.create_tables([CouplingClaim], safe=True)


def _step_4_no_contact_job_title(db: peewee.Database) -> None:
    """Drop the contact field mapping of ``jobTitle``: BC API v2.0 contacts have no such field,
    so every synchronization that selected it was refused (docs/coupling-and-sync.md, "Table and
    field mappings")."""
    contact_tables = TableMappingRow.select(TableMappingRow.id).where(TableMappingRow.bc_entity == "contacts")
    FieldMappingRow.delete().where(
        (FieldMappingRow.bc_field == "jobTitle") & (FieldMappingRow.table_mapping.in_(contact_tables))
    ).execute()


def _step_5_intent_body_and_time(db: peewee.Database) -> None:
    """Keep on each create intent the values sent and when it was begun: a BC record numbered by
    its number series is found again by them (docs/coupling-and-sync.md "Creating the
    counterpart")."""
    _add_columns(db, CreateIntent, _INTENT_BODY_COLUMNS)


def _step_6_job_conflicts(db: peewee.Database) -> None:
    """Count a job's conflicts apart from its failures (docs/coupling-and-sync.md "A conflict's state").

    Older jobs counted their conflicts with the failures; they keep them there (0 conflicts)."""
    _add_columns(db, SyncJob, _JOB_CONFLICT_COLUMNS)


def _add_columns(db: peewee.Database, model: type[BaseModel], names: tuple[str, ...]) -> None:
    """Add the columns of ``model`` named ``names`` that its table lacks."""
    migrator = SchemaMigrator.from_database(db)
    table = model._meta.table_name
    existing = {column.name for column in db.get_columns(table)}
    apply_operations(
        *(migrator.add_column(table, name, model._meta.fields[name]) for name in names if name not in existing)
    )


def _step_7_record_changes(db: peewee.Database) -> None:
    """Create the record_changes table: what each synchronization job overwrote, for undo and
    the history of a record (docs/undo-and-history.md)."""
    db.create_tables([RecordChange], safe=True)


def _step_8_job_unmatched(db: peewee.Database) -> None:
    """Count the records match-based coupling found no match for apart from its failures
    (docs/coupling-and-sync.md "Match-based coupling"). Older jobs counted them as failed; they
    keep them there (0 unmatched)."""
    _add_columns(db, SyncJob, _JOB_UNMATCHED_COLUMNS)


STEPS: tuple[Callable[[peewee.Database], None], ...] = (
    _step_1_create_everything,
    _step_2_job_process_and_heartbeat,
    _step_3_coupling_claims,
    _step_4_no_contact_job_title,
    _step_5_intent_body_and_time,
    _step_6_job_conflicts,
    _step_7_record_changes,
    _step_8_job_unmatched,
)
SCHEMA_VERSION = len(STEPS)


def current_version(db: peewee.Database) -> int:
    """The schema version of ``db``: 0 for an empty database."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    with db.bind_ctx([SchemaVersion]):
        return SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar() or 0


def migrate(db: peewee.Database) -> int:
    """Apply the schema steps ``db`` lacks, each in its own transaction; return the new version.

    Safe to run at every start and from two processes at once (a step already recorded by the
    other process is not applied twice). Raises :class:`StoreError` when the database was made
    by a newer bc-tui.
    """
    with db.bind_ctx(list(ALL_MODELS)):
        db.create_tables([SchemaVersion], safe=True)
        version = current_version(db)
        _refuse_newer(db, version)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            try:
                with write_transaction(db):
                    if SchemaVersion.get_or_none(SchemaVersion.version == number) is not None:
                        continue
                    STEPS[number - 1](db)
                    SchemaVersion.create(version=number)
            except peewee.IntegrityError:
                continue  # another process recorded this step first
    return max(version, SCHEMA_VERSION)


def _refuse_newer(db: peewee.Database, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The coupling database at {location(db)} was created by a newer bc-tui "
            f"(schema {version}, this version knows {SCHEMA_VERSION}). Upgrade bc-tui."
        )
