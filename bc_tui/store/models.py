"""The tables of the coupling database (peewee models, bound through ``database_proxy``).

Only the store's own modules use these; everything else gets plain dataclasses from
``couplings``, ``jobs`` and ``mapping_store``. Columns are named after docs/coupling-and-sync.md
"What a coupling remembers, and Skipped", docs/coupling-and-sync.md "The synchronization log and its errors"
and "Table and field mappings". A change here needs a step in ``migrations.py``.
"""

from __future__ import annotations

import peewee

from bc_tui.store.database import database_proxy
from bc_tui.store.fields import JSONTextField, UTCDateTimeField, utc_now

GUID_LENGTH = 36


class BaseModel(peewee.Model):
    """Binds every table to the database chosen by ``connect``.

    Tables keyed by a plain row number spell out ``id = peewee.AutoField()``: it is the key peewee
    would add by itself, written down so that type checkers know ``row.id`` is an ``int``.
    """

    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row per schema step applied; the highest is the database's schema version."""

    version = peewee.IntegerField(primary_key=True)
    applied_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "schema_version"


class Coupling(BaseModel):
    """A Business Central record coupled one-to-one with a Dataverse record ("CRM Integration Record")."""

    id = peewee.AutoField()
    mapping = peewee.CharField(max_length=64)  # table mapping name, e.g. "CUSTOMER"
    bc_id = peewee.CharField(max_length=GUID_LENGTH)  # BC SystemId
    dataverse_id = peewee.CharField(max_length=GUID_LENGTH)
    bc_number = peewee.CharField(max_length=64, null=True)  # cached for lists
    display_name = peewee.TextField(null=True)  # cached for lists
    # Each side as of the last successful sync: only ever moves forward.
    bc_modified_at = UTCDateTimeField(null=True)
    bc_etag = peewee.TextField(null=True)
    dataverse_modified_at = UTCDateTimeField(null=True)
    dataverse_etag = peewee.TextField(null=True)
    # The last sync in each direction: "success" / "failure" / "conflict" / NULL (never synced that way).
    to_dataverse_result = peewee.CharField(max_length=16, null=True)
    to_dataverse_job_id = peewee.IntegerField(null=True)  # no FK: old jobs are cleaned up
    to_dataverse_error = peewee.TextField(null=True)
    to_dataverse_at = UTCDateTimeField(null=True)
    from_dataverse_result = peewee.CharField(max_length=16, null=True)
    from_dataverse_job_id = peewee.IntegerField(null=True)
    from_dataverse_error = peewee.TextField(null=True)
    from_dataverse_at = UTCDateTimeField(null=True)
    skipped = peewee.BooleanField(default=False)
    deleted_side = peewee.CharField(max_length=16, null=True)  # "bc"/"dataverse": broken coupling
    snapshot = JSONTextField(null=True)  # {"bc": {...}, "dataverse": {...}} as last synced
    created_at = UTCDateTimeField(default=utc_now)
    updated_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "couplings"
        indexes = (
            (("mapping", "bc_id"), True),
            (("mapping", "dataverse_id"), True),
            (("mapping", "skipped"), False),
        )


class CreateIntent(BaseModel):
    """A counterpart about to be created, written *before* the create so a re-run never duplicates it."""

    id = peewee.AutoField()
    mapping = peewee.CharField(max_length=64)
    source_side = peewee.CharField(max_length=16)  # "bc" or "dataverse": the record copied from
    source_id = peewee.CharField(max_length=GUID_LENGTH)
    # The client-made Dataverse GUID; empty for BC, whose number series numbers a new record.
    planned_id = peewee.CharField(max_length=64)
    destination_id = peewee.CharField(max_length=GUID_LENGTH, null=True)  # once created
    state = peewee.CharField(max_length=16, default="pending")  # "pending" / "created"
    job_id = peewee.IntegerField(null=True)
    created_at = UTCDateTimeField(default=utc_now)
    # What the create sends and when it was begun (the service's clock when known): a record
    # created without a planned key is found again by them (schema 5).
    body = JSONTextField(null=True)
    begun_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "create_intents"
        indexes = ((("mapping", "source_side", "source_id"), True),)


class SyncJob(BaseModel):
    """One run of synchronization, coupling, uncoupling, creation or match-based coupling."""

    id = peewee.AutoField()
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
    conflicts = peewee.IntegerField(default=0)  # kept apart from failed (schema step 5)
    unmatched = peewee.IntegerField(default=0)  # match-based coupling found no match (schema step 8)
    # Who runs the job and its last sign of life, so that a job whose process died can be told
    # from one still running in another process (docs/interrupted-jobs.md). Schema step 2.
    total = peewee.IntegerField(null=True)  # records the job expects to handle, when known
    host = peewee.CharField(max_length=255, null=True)
    pid = peewee.IntegerField(null=True)
    process_started = peewee.CharField(max_length=64, null=True)
    heartbeat_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "sync_jobs"
        indexes = ((("started_at",), False),)


class JobError(BaseModel):
    """One failure inside a synchronization job ("Integration Synchronization Errors")."""

    id = peewee.AutoField()
    job = peewee.ForeignKeyField(SyncJob, backref="errors", on_delete="CASCADE")
    created_at = UTCDateTimeField(default=utc_now)
    source_description = peewee.TextField(default="")
    source_id = peewee.CharField(max_length=64, null=True)
    destination_description = peewee.TextField(default="")
    destination_id = peewee.CharField(max_length=64, null=True)
    message = peewee.TextField()
    detail = peewee.TextField(default="")
    bc_id = peewee.CharField(max_length=GUID_LENGTH, null=True, index=True)
    dataverse_id = peewee.CharField(max_length=GUID_LENGTH, null=True, index=True)

    class Meta:
        table_name = "job_errors"


class TableMappingRow(BaseModel):
    """A persisted ``TableMapping`` (filters as JSON lists of conditions)."""

    id = peewee.AutoField()
    name = peewee.CharField(max_length=64, unique=True)
    position = peewee.IntegerField(default=0)
    bc_entity = peewee.CharField(max_length=64)
    dataverse_table = peewee.CharField(max_length=64)
    dataverse_key = peewee.CharField(max_length=64)
    dataverse_name_field = peewee.CharField(max_length=64)
    direction = peewee.CharField(max_length=32)
    table_filter = JSONTextField(default=list)
    integration_table_filter = JSONTextField(default=list)
    sync_only_coupled = peewee.BooleanField(default=True)
    resolve_update_conflicts = peewee.CharField(max_length=32, default="none")
    resolve_deletion_conflicts = peewee.CharField(max_length=32, default="none")

    class Meta:
        table_name = "table_mappings"


class FieldMappingRow(BaseModel):
    """A persisted ``FieldMapping``, in the order of its table mapping."""

    id = peewee.AutoField()
    table_mapping = peewee.ForeignKeyField(TableMappingRow, backref="field_rows", on_delete="CASCADE")
    # peewee's accessor for the raw key of table_mapping, declared (annotation only, no column) so
    # type checkers know it; reading it does not load the table mapping row.
    table_mapping_id: int
    position = peewee.IntegerField(default=0)
    label = peewee.CharField(max_length=128)
    bc_field = peewee.CharField(max_length=128)
    dataverse_field = peewee.CharField(max_length=128)
    direction = peewee.CharField(max_length=32)
    enabled = peewee.BooleanField(default=True)
    constant = JSONTextField(null=True)
    validate = peewee.BooleanField(default=False)
    clear_on_failed_sync = peewee.BooleanField(default=False)
    not_null = peewee.BooleanField(default=False)
    is_code = peewee.BooleanField(default=False)
    use_for_matching = peewee.BooleanField(default=False)
    case_sensitive_matching = peewee.BooleanField(default=False)
    match_priority = peewee.IntegerField(default=0)
    transformation = peewee.TextField(null=True)

    class Meta:
        table_name = "field_mappings"


class SyncWatermark(BaseModel):
    """Per table mapping and side: records modified up to here were seen by "synchronize modified"."""

    id = peewee.AutoField()
    mapping = peewee.CharField(max_length=64)
    side = peewee.CharField(max_length=16)
    modified_at = UTCDateTimeField()

    class Meta:
        table_name = "sync_watermarks"
        indexes = ((("mapping", "side"), True),)


class CouplingClaim(BaseModel):
    """A coupling being synchronized by a job right now: other jobs leave it alone meanwhile.

    Honoured only while its job's status is "running" (see ``store.claims``), so a claim left by
    a finished, cancelled, crashed or interrupted job never blocks anything.
    """

    coupling_id = peewee.IntegerField(primary_key=True)  # no FK: a claim may outlive its coupling
    job_id = peewee.IntegerField(index=True)
    claimed_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "coupling_claims"


class RecordChange(BaseModel):
    """What one synchronization job wrote to one record (docs/undo-and-history.md).

    Compact on purpose: only the fields the job changed, each as ``[before, after]`` by the
    service's own field name, the ETag the record had right after the write (what undo guards
    its own write with), and the coupling's snapshot before the job for the field mappings whose
    remembered values the job moved (what undo puts back). Schema step 5.
    """

    id = peewee.AutoField()
    job_id = peewee.IntegerField()  # no FK: the history is pruned by age, apart from the jobs
    mapping = peewee.CharField(max_length=64)
    coupling_id = peewee.IntegerField(null=True)  # no FK: the coupling may be deleted since
    bc_id = peewee.CharField(max_length=GUID_LENGTH)
    dataverse_id = peewee.CharField(max_length=GUID_LENGTH)
    side = peewee.CharField(max_length=16)  # the side written: "bc" / "dataverse"
    action = peewee.CharField(max_length=16)  # "modified" / "inserted"
    record = peewee.TextField(default="")  # the record named in messages
    fields = JSONTextField(default=dict)  # {api field: [before, after]}
    snapshot = JSONTextField(null=True)  # {"bc": {label: value}, "dataverse": {...}} before the job
    etag = peewee.TextField(null=True)  # the written record's ETag right after the write
    created_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "record_changes"
        indexes = (
            (("job_id",), False),
            (("mapping", "bc_id"), False),
            (("created_at",), False),
        )


ALL_MODELS: tuple[type[BaseModel], ...] = (
    SchemaVersion,
    Coupling,
    CreateIntent,
    SyncJob,
    JobError,
    TableMappingRow,
    FieldMappingRow,
    SyncWatermark,
    CouplingClaim,
    RecordChange,
)
