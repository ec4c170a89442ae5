"""One description of each side of a coupling: Business Central and Dataverse.

Everything that differs between the two services when records are read, written, created or
named is declared here once (:class:`SideDescription`), so that the use cases are written once
for "a side" and its :attr:`~SideDescription.other`, instead of once per service. A new table
mapping adds its entity kinds and extra fields to these declarations; it needs no new branch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Generic, Literal, TypedDict, TypeVar

from bc_tui.connectors import business_central, dataverse
from bc_tui.connectors.models import (
    BcContact,
    BcCustomer,
    BcEntity,
    DataverseAccount,
    DataverseContact,
    DataverseEntity,
    Entity,
)
from bc_tui.domain.diff import BC_MODIFIED, DATAVERSE_MODIFIED
from bc_tui.domain.mappings import Condition, SyncDirection, TableMapping
from bc_tui.domain.names import BUSINESS_CENTRAL, DATAVERSE, bc_noun, dataverse_noun, describe_bc, describe_dataverse
from bc_tui.domain.selection import bc_select, dataverse_select
from bc_tui.domain.sync_plan import RecordPlan
from bc_tui.domain.transfer import TransferResult
from bc_tui.store.coupling_queries import (
    couplings_by_bc_id,
    couplings_by_dataverse_id,
    find_orphans,
    get_by_bc_id,
    get_by_dataverse_id,
)
from bc_tui.store.records import CouplingRecord, Side, normalize_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.session import SyncSession

E = TypeVar("E", bound=Entity)


class RecordIds(TypedDict):
    """A record's id and its counterpart's, as the keywords ``JobLog.record`` takes them."""

    bc_id: str | None
    dataverse_id: str | None


def _new_guid(_source_id: str) -> str:
    # Dataverse accepts the key of a new row from the client: a fresh GUID, stored in the
    # create intent before the row is sent, is what a re-run finds the row by.
    return str(uuid.uuid4())


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: there are exactly two
class SideDescription(Generic[E]):
    """What one service is to bc-tui: its client, its entities, keys, ETags, batches and words."""

    side: Side
    #: True for Dataverse (the domain's functions take the side as this flag).
    is_dataverse: bool
    #: The service's name in messages ("Business Central", "Dataverse").
    service: str
    #: How the error for an unknown entity names it ("Business Central entity", "Dataverse table").
    entity_noun: str
    #: The connector model per entity set / table name of a table mapping.
    kinds: Mapping[str, type[E]]
    #: Fields a use case needs beyond what the mapping synchronizes (names, a contact's company).
    extra: Mapping[str, tuple[str, ...]]
    #: The mapping's entity set (BC) or table (Dataverse) on this side.
    entity: Callable[[TableMapping], str]
    select: Callable[[TableMapping], Sequence[str]]
    #: The key field of the mapping's records ("id" in BC, e.g. "accountid" in Dataverse).
    key: Callable[[TableMapping], str]
    #: The filter the mapping's records on this side must pass, and its name in messages.
    table_filter: Callable[[TableMapping], Iterable[Condition]]
    filter_name: str
    client: Callable[[SyncSession], Any]
    #: The field holding the service's last-modified time of a record.
    modified_field: str
    #: Operations per ``$batch`` request the service accepts (JSON batch in BC, multipart in Dataverse).
    batch_limit: int
    #: Keywords of the client's ``batch`` for independent writes: each answered on its own.
    batch_options: Mapping[str, Any]
    #: The record kind in lower case ("customer", "account") and a record named in messages.
    noun: Callable[[TableMapping], str]
    describe: Callable[[TableMapping, Mapping[str, Any]], str]
    #: The direction that writes to this side (send writes Dataverse, get writes BC).
    written_by: SyncDirection
    #: This side's half of a coupling, of a coupled pair and of a plan (the changes to write here).
    of_pair: Callable[[Any], Any]
    plan_changes: Callable[[RecordPlan], TransferResult]
    recorded_etag: Callable[[CouplingRecord], str | None]
    couplings_by_id: Callable[[str, Iterable[str]], dict[str, CouplingRecord]]
    coupling_by_id: Callable[[str, str], CouplingRecord | None]
    #: The couplings of a mapping whose record on this side is not among the given existing ids.
    orphans: Callable[[str, list[str]], list[CouplingRecord]]
    #: The keyword ``JobRun.record`` and the store take this side's record id under, and the
    #: attribute a coupling, a record change and a job's record result hold it in.
    id_keyword: Literal["bc_id", "dataverse_id"]
    #: Creating a record here (docs/coupling-and-sync.md "Creating the counterpart"). Dataverse
    #: takes the key of a new row from the client: it is planned from the source id before the
    #: create is sent, and the row is found again by it. BC numbers a new record from its number
    #: series (None): the record is found again by the values sent (``refind.py``).
    planned_key: Callable[[str], str] | None
    #: The field that gives a duplicate away, per entity (default: the name field), and which
    #: of them is an e-mail (for the message).
    duplicate_fields: Mapping[str, str]
    default_duplicate_field: Callable[[TableMapping], str]
    email_field: str
    #: The fields that name a record of the mapping (read along when looking records up).
    identity_fields: Callable[[TableMapping], tuple[str, ...]]
    #: Fields a new record never takes from the table filter: the service sets them itself
    #: (Dataverse's state) or the parent does (a BC contact's company).
    no_filter_default: frozenset[str] = field(default_factory=frozenset)

    @property
    def other(self) -> SideDescription[Any]:
        """The opposite side of a coupling."""
        return SIDES[_OTHER[self.side]]

    def kind(self, mapping: TableMapping) -> type[E]:
        """The connector model of the mapping's entity on this side."""
        try:
            return self.kinds[self.entity(mapping)]
        except KeyError:
            raise SyncError(
                f"The table mapping {mapping.name} names the unknown {self.entity_noun} {self.entity(mapping)}."
            ) from None

    def fields(self, mapping: TableMapping) -> tuple[str, ...]:
        """The fields read for the mapping's records on this side (``$select``)."""
        return tuple(dict.fromkeys((*self.select(mapping), *self.extra.get(self.entity(mapping), ()))))

    def record_id(self, mapping: TableMapping, record: Mapping[str, Any]) -> str:
        """The normalized key of a record of this side."""
        return normalize_id(str(record[self.key(mapping)]))

    def id_of(self, holder: Any) -> Any:
        """This side's record id as a coupling, a record change or a job's record result holds it."""
        return getattr(holder, self.id_keyword)

    def duplicate_field(self, mapping: TableMapping) -> str:
        """The field on this side that gives a duplicate of a new record away."""
        return self.duplicate_fields.get(self.entity(mapping), self.default_duplicate_field(mapping))

    def ids(self, record_id: str | None, other_id: str | None = None) -> RecordIds:
        """``bc_id=…, dataverse_id=…`` for a record of this side and (optionally) its counterpart."""
        ids = RecordIds(bc_id=None, dataverse_id=None)
        ids[self.id_keyword] = record_id
        ids[self.other.id_keyword] = other_id
        return ids


BC_SIDE: SideDescription[BcEntity] = SideDescription(
    side=Side.BC,
    is_dataverse=False,
    service=BUSINESS_CENTRAL,
    entity_noun="Business Central entity",
    kinds={"customers": BcCustomer, "contacts": BcContact},
    extra={"contacts": ("type", "companyNumber", "companyName")},
    entity=attrgetter("bc_entity"),
    select=bc_select,
    key=lambda mapping: "id",
    table_filter=attrgetter("table_filter"),
    filter_name="table filter",
    client=attrgetter("bc"),
    modified_field=BC_MODIFIED,
    batch_limit=business_central.MAX_BATCH,
    batch_options={},
    noun=bc_noun,
    describe=describe_bc,
    written_by=SyncDirection.FROM_DATAVERSE,
    of_pair=attrgetter("bc"),
    plan_changes=attrgetter("to_bc"),
    recorded_etag=attrgetter("bc_etag"),
    couplings_by_id=couplings_by_bc_id,
    coupling_by_id=get_by_bc_id,
    orphans=lambda mapping, ids: find_orphans(mapping, existing_bc_ids=ids),
    id_keyword="bc_id",
    planned_key=None,
    duplicate_fields={"customers": "displayName", "contacts": "email"},
    default_duplicate_field=lambda mapping: "displayName",
    email_field="email",
    identity_fields=lambda mapping: ("id", "number", "displayName"),
    no_filter_default=frozenset({"companyNumber"}),
)

DATAVERSE_SIDE: SideDescription[DataverseEntity] = SideDescription(
    side=Side.DATAVERSE,
    is_dataverse=True,
    service=DATAVERSE,
    entity_noun="Dataverse table",
    kinds={"accounts": DataverseAccount, "contacts": DataverseContact},
    extra={"accounts": ("name",), "contacts": ("firstname", "lastname", "_parentcustomerid_value")},
    entity=attrgetter("dataverse_table"),
    select=dataverse_select,
    key=attrgetter("dataverse_key"),
    table_filter=attrgetter("integration_table_filter"),
    filter_name="integration table filter",
    client=attrgetter("dataverse"),
    modified_field=DATAVERSE_MODIFIED,
    batch_limit=dataverse.MAX_BATCH,
    batch_options={"change_set": False, "continue_on_error": True},
    noun=dataverse_noun,
    describe=describe_dataverse,
    written_by=SyncDirection.TO_DATAVERSE,
    of_pair=attrgetter("dataverse"),
    plan_changes=attrgetter("to_dataverse"),
    recorded_etag=attrgetter("dataverse_etag"),
    couplings_by_id=couplings_by_dataverse_id,
    coupling_by_id=get_by_dataverse_id,
    orphans=lambda mapping, ids: find_orphans(mapping, existing_dataverse_ids=ids),
    id_keyword="dataverse_id",
    planned_key=_new_guid,
    duplicate_fields={"accounts": "name", "contacts": "emailaddress1"},
    default_duplicate_field=attrgetter("dataverse_name_field"),
    email_field="emailaddress1",
    identity_fields=lambda mapping: (mapping.dataverse_key, mapping.dataverse_name_field),
    no_filter_default=frozenset({"statecode", "statuscode"}),
)

#: The description of each side, by the store's name for it.
SIDES: Mapping[Side, SideDescription[Any]] = {Side.BC: BC_SIDE, Side.DATAVERSE: DATAVERSE_SIDE}
_OTHER: Mapping[Side, Side] = {Side.BC: Side.DATAVERSE, Side.DATAVERSE: Side.BC}
#: The side each one-way direction writes to.
_WRITTEN_BY: Mapping[SyncDirection, SideDescription[Any]] = {s.written_by: s for s in SIDES.values()}


def side_of(side: Side) -> SideDescription[Any]:
    """The description of ``side``."""
    return SIDES[side]


def written_side(direction: SyncDirection) -> SideDescription[Any]:
    """The side a send (Dataverse) or a get (Business Central) writes to."""
    return _WRITTEN_BY[SyncDirection(direction)]


def source_side(direction: SyncDirection) -> SideDescription[Any]:
    """The side a send (Business Central) or a get (Dataverse) reads from."""
    return written_side(direction).other


__all__ = [
    "BC_SIDE",
    "DATAVERSE_SIDE",
    "SIDES",
    "RecordIds",
    "SideDescription",
    "side_of",
    "source_side",
    "written_side",
]
