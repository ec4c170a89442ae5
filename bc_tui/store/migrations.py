"""Versioned schema of the coupling database, brought up to date at every start.

``STEPS`` lists the schema steps in order; step *n* turns a schema-*(n-1)* database into a
schema-*n* one and is recorded in ``schema_version``. Step 1 creates every table.

To change the schema: edit ``models.py`` and append a step that makes the same change to an
existing database (``playhouse.migrate.SchemaMigrator`` helps), e.g. ``add_column``. A fresh
database runs all steps in order, so step 1 must keep creating the tables *as they were in
schema 1*: when a later step alters a table, give step 1 a frozen copy of the old model.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply_operations

from bc_tui.store.database import location, write_transaction
from bc_tui.store.errors import StoreError
from bc_tui.store.fields import UTCDateTimeField, utc_now
from bc_tui.store.models import (
    ALL_MODELS,
    BaseModel,
    CouplingClaim,
    FieldMappingRow,
    RecordChange,
    SchemaVersion,
    SyncJob,
    TableMappingRow,
)


# A deliberate copy of SyncJob's fields as they stood in schema 1, not a repeat to fold into
# models.py: step 1 must keep creating the old table even as SyncJob changes, so that the later
# steps find what they alter (see this module's docstring).
class _SyncJobSchema1(BaseModel):
    """``sync_jobs`` as schema 1 created it (step 2 adds the process and heartbeat columns)."""

    type = peewee.CharField(max_length=32)
    direction = peewee.CharField(max_length=32, null=True)
    mapping = peewee.CharField(max_length=64, null=True)
    started_at = UTCDateTimeField(default=utc_now)
    finished_at = UTCDateTimeField(null=True)
    message = peewee.TextField(default="")
    inserted = peewee.IntegerField(default=0)
    modified = peewee.IntegerField(default=0)
    deleted = peewee.IntegerField(default=0)
    unchanged = peewee.IntegerField(default=0)
    skipped = peewee.IntegerField(default=0)
    failed = peewee.IntegerField(default=0)
    coupled = peewee.IntegerField(default=0)
    uncoupled = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=16, default="running")

    class Meta:
        table_name = "sync_jobs"
        indexes = ((("started_at",), False),)


def _step_1_create_everything(db: peewee.Database) -> None:
    """Create the couplings, intents, jobs, job errors, mappings and watermarks tables."""
    with db.bind_ctx([_SyncJobSchema1]):
        # First: job_errors refers to it, and PostgreSQL wants the referenced table to exist.
        db.create_tables([_SyncJobSchema1], safe=True)
    later = (SchemaVersion, SyncJob, CouplingClaim, RecordChange)  # made by migrate() itself / by a later step
    db.create_tables([model for model in ALL_MODELS if model not in later], safe=True)


#: The columns step 2 adds to ``sync_jobs``: who runs a job and its last sign of life.
_JOB_PROCESS_COLUMNS = ("total", "host", "pid", "process_started", "heartbeat_at")


def _step_2_job_process_and_heartbeat(db: peewee.Database) -> None:
    """Record on each job its process (host, pid, start time), its heartbeat and its total."""
    migrator = SchemaMigrator.from_database(db)
    existing = {column.name for column in db.get_columns(SyncJob._meta.table_name)}
    apply_operations(
        *(
            migrator.add_column(SyncJob._meta.table_name, name, SyncJob._meta.fields[name])
            for name in _JOB_PROCESS_COLUMNS
            if name not in existing
        )
    )


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


def _step_5_record_changes(db: peewee.Database) -> None:
    """Create the record_changes table: what each synchronization job overwrote, for undo and
    the history of a record (docs/undo-and-history.md)."""
    db.create_tables([RecordChange], safe=True)


STEPS: tuple[Callable[[peewee.Database], None], ...] = (
    _step_1_create_everything,
    _step_2_job_process_and_heartbeat,
    _step_3_coupling_claims,
    _step_4_no_contact_job_title,
    _step_5_record_changes,
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
